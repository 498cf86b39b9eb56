import { DasError } from "../errors.js";

export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly Readonly<Record<string, string>>[];
}

/**
 * RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes
 * (the NB101 adjacency and DARTS genotype columns need this).
 */
export function parseCsv(text: string, name = "csv"): CsvTable {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  const endField = () => {
    record.push(field);
    field = "";
  };
  const endRecord = () => {
    endField();
    if (!(record.length === 1 && record[0] === "")) records.push(record);
    record = [];
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") endField();
    else if (ch === "\n") endRecord();
    else if (ch !== "\r") field += ch;
    i++;
  }
  if (quoted) throw new DasError("INVALID_CSV", `${name}: unterminated quoted field`);
  if (field !== "" || record.length > 0) endRecord();
  if (records.length === 0) throw new DasError("INVALID_CSV", `${name}: empty file`);
  const header = records[0].map((h) => h.trim());
  const rows = records.slice(1).map((r, k) => {
    if (r.length !== header.length) {
      throw new DasError("INVALID_CSV", `${name}: row ${k + 2} has ${r.length} fields, the header has ${header.length}`, { row: k + 2 });
    }
    return Object.fromEntries(header.map((h, j) => [h, r[j]]));
  });
  return { header, rows };
}

export function requireColumn(table: CsvTable, column: string, name = "csv"): void {
  if (!table.header.includes(column)) {
    throw new DasError("INVALID_CSV", `${name}: no column '${column}' (columns: ${table.header.join(", ")})`, { column });
  }
}

/** A numeric CSV field; accepts inf / -inf (as Python writes them, e.g. singular NASWOT scores). NaN when not a number. */
export function parseNumericField(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === "inf" || t === "+inf" || t === "infinity") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  return t === "" ? NaN : Number(t);
}
