/** A page of the dashboard: built once when first visited, then kept. */
export interface Page {
  readonly title: string;
  readonly build: () => HTMLElement;
  /** Runs on every visit (e.g. to refresh a list). */
  readonly shown?: () => void;
}
