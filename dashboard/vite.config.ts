// The dashboard's build: a static app in dist/, served by the edge Worker as Workers static assets
// (wrangler.toml [assets]). onnxruntime-web is not bundled: its ES module, glue and .wasm are copied
// as they are to /ort/ and imported at run time, so its own worker and .wasm URLs keep working; the
// bundled scoring samples (gpu-worker/data) are copied to /data/. `vite` (npm run dev -w dashboard)
// serves the same files and proxies /graphql to DAS_EDGE_URL (default: npm start's Worker).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const ORT_DIST = dirname(createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
const DATA = join(ROOT, "gpu-worker/data");

/** URL path (under the site root) -> file on disk. The wasm build runs everywhere; the JSPI build adds WebGPU. */
export const STATIC_FILES: Readonly<Record<string, string>> = {
  "ort/ort.wasm.min.mjs": join(ORT_DIST, "ort.wasm.min.mjs"),
  "ort/ort-wasm-simd-threaded.mjs": join(ORT_DIST, "ort-wasm-simd-threaded.mjs"),
  "ort/ort-wasm-simd-threaded.wasm": join(ORT_DIST, "ort-wasm-simd-threaded.wasm"),
  "ort/ort.jspi.min.mjs": join(ORT_DIST, "ort.jspi.min.mjs"),
  "ort/ort-wasm-simd-threaded.jspi.mjs": join(ORT_DIST, "ort-wasm-simd-threaded.jspi.mjs"),
  "ort/ort-wasm-simd-threaded.jspi.wasm": join(ORT_DIST, "ort-wasm-simd-threaded.jspi.wasm"),
  "data/cifar10/train-512.bin": join(DATA, "cifar10/train-512.bin"),
  "data/mnist/t10k-512-images-idx3-ubyte.gz": join(DATA, "mnist/t10k-512-images-idx3-ubyte.gz"),
};

const CONTENT_TYPES: Record<string, string> = { mjs: "text/javascript", wasm: "application/wasm" };
const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

function staticFiles(): Plugin {
  return {
    name: "das-static-files",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? "").split("?")[0].replace(/^\//, "");
        const file = STATIC_FILES[path];
        if (!file) return next();
        res.setHeader("content-type", CONTENT_TYPES[path.split(".").pop()!] ?? "application/octet-stream");
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      for (const [fileName, file] of Object.entries(STATIC_FILES)) this.emitFile({ type: "asset", fileName, source: readFileSync(file) });
    },
  };
}

export default defineConfig({
  root: HERE,
  base: "/",
  logLevel: "warn",
  plugins: [staticFiles()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 1500 },
  server: {
    fs: { allow: [ROOT] },
    headers: ISOLATION,
    proxy: { "/graphql": process.env.DAS_EDGE_URL ?? "http://127.0.0.1:8787" },
  },
});
