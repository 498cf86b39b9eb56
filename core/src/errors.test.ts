import { describe, expect, it } from "vitest";
import { DasError, ERROR_CODES, ERROR_TABLE, errorClass, exitStatusFor, INTERNAL_ERROR_MESSAGE, toErrorBody } from "./errors.js";

describe("error table", () => {
  it("gives every code a class, 4xx exactly for client errors", () => {
    expect(Object.keys(ERROR_TABLE).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const c = errorClass(code);
      expect(c.client, code).toBe(c.httpStatus >= 400 && c.httpStatus < 500);
      expect(c.httpStatus, code).toBeGreaterThanOrEqual(400);
      expect(c.httpStatus, code).toBeLessThan(600);
    }
  });

  it("maps the codes the service relies on", () => {
    expect(errorClass("INVALID_ARCH_SPEC")).toEqual({ client: true, httpStatus: 400 });
    expect(errorClass("MODEL_TOO_LARGE")).toEqual({ client: true, httpStatus: 413 });
    expect(errorClass("UNAUTHENTICATED")).toEqual({ client: true, httpStatus: 401 });
    expect(errorClass("NOT_FOUND")).toEqual({ client: true, httpStatus: 404 });
    expect(errorClass("QUEUE_FULL")).toEqual({ client: true, httpStatus: 429 });
    expect(errorClass("MODEL_CRASHED")).toEqual({ client: true, httpStatus: 422 });
    expect(errorClass("TIMEOUT")).toEqual({ client: false, httpStatus: 504 });
    expect(errorClass("GPU_UNAVAILABLE")).toEqual({ client: false, httpStatus: 503 });
    expect(errorClass("RUNTIME_FAILURE")).toEqual({ client: false, httpStatus: 500 });
    expect(errorClass("INTERNAL")).toEqual({ client: false, httpStatus: 500 });
  });
});

describe("exitStatusFor", () => {
  it("is 2 for client errors, 1 for the rest, 0 for none", () => {
    expect(exitStatusFor(new DasError("INVALID_ARGUMENT", "x"))).toBe(2);
    expect(exitStatusFor(new DasError("NO_RELU", "x"))).toBe(2);
    expect(exitStatusFor(new DasError("RUNTIME_FAILURE", "x"))).toBe(1);
    expect(exitStatusFor(new DasError("TIMEOUT", "x"))).toBe(1);
    expect(exitStatusFor(new Error("bug"))).toBe(1);
    expect(exitStatusFor("thrown string")).toBe(1);
    expect(exitStatusFor(undefined)).toBe(0);
  });
});

describe("toErrorBody", () => {
  it("keeps a DasError's code and message and masks anything else", () => {
    expect(toErrorBody(new DasError("NO_RELU", "the model has no Relu", { op: "x" }))).toEqual({ code: "NO_RELU", message: "the model has no Relu" });
    expect(toErrorBody(new TypeError("secret at /srv/app.js:12"))).toEqual({ code: "INTERNAL", message: INTERNAL_ERROR_MESSAGE });
    expect(toErrorBody(null)).toEqual({ code: "INTERNAL", message: INTERNAL_ERROR_MESSAGE });
  });
});
