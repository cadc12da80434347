/** One sub-command of the `runner` CLI (`runner <name> ...`). */
export interface Command {
  /** The word after `runner`. */
  name: string;
  /** One line for `runner --help`. */
  summary: string;
  /** Full `--help` text of the sub-command (usage, options, examples). */
  help: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}
