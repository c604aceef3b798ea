// A file a run will write when it ends (a capture, a JSON or HTML report), checked before the run
// starts: a typo in a directory name should cost a second, not the minutes of work whose result
// it was meant to hold. Nothing is created or truncated here; an existing file the user may care
// about is left as it is until the run has something to put in it.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RunError } from './run-error.ts';

/** Throws RunError (ENOENT: no such directory; EINVAL: not writable, or not a file) unless `file` can be written. */
export function checkOutputPath(file: string, flag: string): void {
  if (file === '') throw new RunError('EINVAL', `${flag}: an empty file name`);
  const path = resolve(file);
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch (cause) {
    throw new RunError('EINVAL', `${flag} ${file}: ${(cause as Error).message}`, { cause });
  }
  if (st !== undefined) {
    if (!st.isFile()) throw new RunError('EINVAL', `${flag} ${file}: exists and is not a regular file`);
    try {
      accessSync(path, constants.W_OK);
    } catch (cause) {
      throw new RunError('EINVAL', `${flag} ${file}: not writable (${(cause as NodeJS.ErrnoException).code ?? 'EACCES'})`, { cause });
    }
    return;
  }
  const dir = dirname(path);
  const ds = statSync(dir, { throwIfNoEntry: false });
  if (ds === undefined) throw new RunError('ENOENT', `${flag} ${file}: no directory ${dir}`);
  if (!ds.isDirectory()) throw new RunError('ENOENT', `${flag} ${file}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (cause) {
    throw new RunError('EINVAL', `${flag} ${file}: cannot create files in ${dir} (${(cause as NodeJS.ErrnoException).code ?? 'EACCES'})`, { cause });
  }
}
