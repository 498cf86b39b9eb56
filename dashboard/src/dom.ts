/** Small DOM helpers: the dashboard is plain TypeScript, no framework. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** An element with attributes (`on*` functions become listeners; false/undefined are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k in el && typeof v !== "string") (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** A labelled form control. */
export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h("label", { class: "field" }, h("span", {}, label), control);
}

export function select(name: string, options: readonly (string | [value: string, label: string])[], value?: string): HTMLSelectElement {
  const s = h("select", { name });
  for (const o of options) {
    const [v, l] = typeof o === "string" ? [o, o] : o;
    s.append(h("option", { value: v }, l));
  }
  if (value !== undefined) s.value = value;
  return s;
}

export function numberInput(name: string, value: number, min: number, max: number): HTMLInputElement {
  return h("input", { name, type: "number", value: String(value), min: String(min), max: String(max), step: "1" });
}

/** Formats a metric: null and infinities as text, large values without decimals. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return v > 0 ? "+∞" : "−∞";
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return v.toFixed(digits);
}

/** A message box: info, or an error with its code. */
export function note(kind: "info" | "error", text: string): HTMLParagraphElement {
  return h("p", { class: `note ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}
