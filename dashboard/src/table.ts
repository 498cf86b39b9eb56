/** A sortable, paged table: click a header to sort (again to reverse); Previous/Next page through. */
import { fill, fmt, h } from "./dom.js";

export interface Column<Row> {
  readonly key: string;
  readonly label: string;
  readonly value: (row: Row) => number | string | null;
  /** How a cell shows; default: numbers with fmt(), strings as they are. */
  readonly format?: (row: Row) => string | Node;
  readonly title?: string;
}

export class DataTable<Row> {
  readonly element: HTMLDivElement;
  private rows: Row[] = [];
  private page = 0;
  private sortKey: string | undefined;
  private descending = true;

  constructor(
    private readonly columns: readonly Column<Row>[],
    private readonly pageSize = 25,
    className = "data-table",
  ) {
    this.element = h("div", { class: className });
  }

  /** New rows: back to the first page, sort kept. */
  setRows(rows: readonly Row[]): void {
    this.rows = [...rows];
    this.page = 0;
    this.sort();
    this.render();
  }

  /** Sorts by a column (descending first), as a header click does. */
  sortBy(key: string, descending = true): void {
    this.sortKey = key;
    this.descending = descending;
    this.page = 0;
    this.sort();
    this.render();
  }

  private sort(): void {
    const col = this.columns.find((c) => c.key === this.sortKey);
    if (!col) return;
    const sign = this.descending ? -1 : 1;
    // Nulls (singular scores, missing values) last in either direction.
    this.rows.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    });
  }

  private render(): void {
    const pages = Math.max(1, Math.ceil(this.rows.length / this.pageSize));
    this.page = Math.min(this.page, pages - 1);
    const head = h(
      "tr",
      {},
      ...this.columns.map((c) => {
        const active = c.key === this.sortKey;
        return h(
          "th",
          { "aria-sort": active ? (this.descending ? "descending" : "ascending") : "none", title: c.title ?? `sort by ${c.label}`, "data-key": c.key, onclick: () => this.sortBy(c.key, active ? !this.descending : true) },
          c.label,
          active ? (this.descending ? " ▼" : " ▲") : "",
        );
      }),
    );
    const body = this.rows.slice(this.page * this.pageSize, (this.page + 1) * this.pageSize).map((row) =>
      h(
        "tr",
        {},
        ...this.columns.map((c) => {
          if (c.format) return h("td", {}, c.format(row));
          const v = c.value(row);
          return h("td", { class: typeof v === "string" ? "text" : "num" }, typeof v === "string" ? v : fmt(v));
        }),
      ),
    );
    const pager = h(
      "div",
      { class: "pager" },
      h("button", { type: "button", disabled: this.page === 0, onclick: () => this.go(-1) }, "Previous"),
      h("span", { class: "page-of" }, `page ${this.page + 1} of ${pages} (${this.rows.length} rows)`),
      h("button", { type: "button", disabled: this.page >= pages - 1, onclick: () => this.go(1) }, "Next"),
    );
    fill(this.element, h("table", {}, h("thead", {}, head), h("tbody", {}, ...body)), pager);
  }

  private go(delta: number): void {
    this.page += delta;
    this.render();
  }
}
