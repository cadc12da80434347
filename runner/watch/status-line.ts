/** One status line: redrawn in place at the bottom of a terminal, printed when it changes elsewhere. */
export class StatusLine {
  readonly #out: NodeJS.WriteStream;
  readonly #live: boolean;
  #shown = '';
  #printed = '';

  constructor(out: NodeJS.WriteStream, live = Boolean(out.isTTY) && !process.env.CI) {
    this.#out = out;
    this.#live = live;
  }

  /** Shows `text` as the status. Off a terminal it is printed when its first part (before ' · ') changes. */
  set(text: string): void {
    if (this.#live) {
      const width = this.#out.columns || 120;
      this.#shown = text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text;
      this.#out.write(`\r\u001b[2K${this.#shown}`);
      return;
    }
    const head = text.split(' · ')[0]!;
    if (head !== this.#printed) {
      this.#printed = head;
      this.#out.write(`${text}\n`);
    }
  }

  /** Prints a line above the status line. */
  print(text: string): void {
    if (this.#live) this.#out.write('\r\u001b[2K');
    this.#out.write(text.endsWith('\n') ? text : `${text}\n`);
    if (this.#live && this.#shown) this.#out.write(this.#shown);
  }

  /** Ends the status line (the cursor goes to a new line). */
  end(): void {
    if (this.#live && this.#shown) this.#out.write('\n');
    this.#shown = '';
  }
}
