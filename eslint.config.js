// Type-aware lint over sources, tests and scripts, with one program from tsconfig.eslint.json.
// `npm run lint`; `npm test` runs it too.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

const noUnsafeOff = {
  "@typescript-eslint/no-unsafe-assignment": "off",
  "@typescript-eslint/no-unsafe-member-access": "off",
  "@typescript-eslint/no-unsafe-argument": "off",
  "@typescript-eslint/no-unsafe-return": "off",
  "@typescript-eslint/no-unsafe-call": "off",
};

export default defineConfig(
  { ignores: ["**/dist/", "**/node_modules/", "**/.data/", ".wrangler/", "coverage/", "scratch/", "tmp/", "**/*.d.ts"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ["./tsconfig.eslint.json"], tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      eqeqeq: "error",
      // Off: some implementations of Promise-returning interfaces (CLI commands, tap strategies) are synchronous, and `async` is the plainest way to say so.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    // The Worker and its workerd tests: Workers types instead of Node's, so their own programs.
    files: ["functions/**/*.ts"],
    languageOptions: {
      parserOptions: { project: ["./functions/tsconfig.json", "./functions/test/tsconfig.json"], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // The dashboard: browser code bundled by Vite, its own program (DOM types, bundler resolution).
    files: ["dashboard/src/**/*.ts"],
    languageOptions: {
      parserOptions: { project: ["./dashboard/tsconfig.json"], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Off in tests: they read JSON from the CLI and the services and check its fields with expect, which fails on a wrong field anyway.
    files: ["test/**/*.ts", "**/*.test.ts"],
    rules: { ...noUnsafeOff, "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // Plain-JS scripts run on Node; the no-unsafe rules are off as without annotations much of what they hold is `any`.
    files: ["scripts/**/*.mjs", "gpu-worker/bin/*.js", "eslint.config.js"],
    languageOptions: { globals: globals.node },
    rules: noUnsafeOff,
  },
);
