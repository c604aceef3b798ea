// The two ways a packetdrill script stops: it cannot be run as written (a syntax error, a construct
// vxo does not support, a shell line, an unknown symbol: exit status 2), or it ran and the stack
// did something other than what it says (a packet, a result or a time differs: exit status 1).

/** A position in a script: 1-based line and column. */
export interface Loc {
  line: number;
  col: number;
}

/** The script cannot be run as written. */
export class ScriptError extends Error {
  readonly code = 'ESCRIPT';
  constructor(
    readonly file: string,
    readonly loc: Loc,
    readonly detail: string,
  ) {
    super(`${file}:${loc.line}:${loc.col}: error: ${detail}`);
    this.name = 'ScriptError';
  }
}

/** The stack did not do what the script expects: the first mismatch, with what was seen instead. */
export class ScriptFailure extends Error {
  readonly code = 'EFAIL';
  constructor(
    readonly file: string,
    readonly loc: Loc,
    readonly detail: string,
  ) {
    super(`${file}:${loc.line}: ${detail}`);
    this.name = 'ScriptFailure';
  }
}
