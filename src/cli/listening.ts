// What a command prints on stdout once it listens: one line per service,
// `echoplex NAME listening on ADDRESS (DETAILS)`, which scripts and tests read.

export interface ListeningRow {
  name: string;
  /** Where it listens; undefined: it is off (serve's admin row without --admin). */
  address: string | undefined;
  details: string;
  /** After the details, e.g. `[2 workers]`. */
  suffix?: string;
}

/**
 * The rows as lines. `aligned` (serve's table of services) pads the name and address
 * into columns; otherwise each line has single spaces, as a one-service command prints it.
 */
export function formatListening(rows: readonly ListeningRow[], aligned: boolean): string {
  const where = (r: ListeningRow) => (r.address === undefined ? "off" : `listening on ${r.address}`);
  const nameWidth = aligned ? Math.max(...rows.map((r) => r.name.length)) : 0;
  const whereWidth = aligned ? Math.max(...rows.map((r) => where(r).length)) : 0;
  return rows
    .map(
      (r) =>
        `echoplex ${r.name.padEnd(nameWidth)} ${where(r).padEnd(whereWidth)} (${r.details})${r.suffix === undefined ? "" : ` ${r.suffix}`}\n`,
    )
    .join("");
}
