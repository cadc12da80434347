/** One sub-command of the `runner` CLI (`runner <name> ...`); its name and summary are in the command table (index.ts). */
export interface Command {
  /** Full `--help` text of the sub-command (usage, options, examples). */
  help: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}
