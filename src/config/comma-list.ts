// A comma-separated setting ("a, b,,c"), as every configuration reader takes lists from the environment.

/** The non-empty items of a comma-separated value, trimmed; none when unset. */
export function commaList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
