/** The dashboard's entry: the API key field, hash routing between the four pages (each built once and kept, so a running batch survives navigation). */
import "./style.css";
import { apiKey, setApiKey } from "./api.js";
import type { Page } from "./page.js";
import { batchPage } from "./pages/batch.js";
import { dtbPage } from "./pages/dtb.js";
import { modelPage } from "./pages/model.js";
import { scoresPage } from "./pages/scores.js";

const PAGES: Record<string, Page> = { scores: scoresPage, batch: batchPage, model: modelPage, dtb: dtbPage };
const built = new Map<string, HTMLElement>();
const main = document.getElementById("page")!;

function route(): void {
  const name = /^#\/(\w+)/.exec(location.hash)?.[1] ?? "scores";
  const page = PAGES[name] ?? PAGES.scores;
  const key = PAGES[name] ? name : "scores";
  let el = built.get(key);
  if (!el) {
    el = page.build();
    el.dataset.page = key;
    built.set(key, el);
  }
  main.replaceChildren(el);
  document.title = `${page.title} · DAS dashboard`;
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) a.classList.toggle("active", a.dataset.page === key);
  page.shown?.();
}

const keyInput = document.getElementById("api-key") as HTMLInputElement;
keyInput.value = apiKey();
keyInput.addEventListener("change", () => setApiKey(keyInput.value.trim()));
window.addEventListener("hashchange", route);
route();
