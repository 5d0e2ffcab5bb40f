// Runs the CLI from its TypeScript sources (development only: node --import <tap's TS loader>).
import { run } from '../../src/main.js'
void run(process.argv).then(code => { process.exitCode = code })
