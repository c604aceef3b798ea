// The vxo command: bin/vxo.js runs the build of this file; `npm start` runs it from the sources.
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
