/** True when colours should be used on `stream` (a terminal, NO_COLOR unset). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}
