import { describe, expect, it } from "vitest";
import { agreementKernel, eigenLogAbsDet, symmetricEigenvalues } from "./helpers/linalg.js";

// The tests' independent log-determinant is itself checked on hand-computed matrices.
describe("the tests' reference linear algebra", () => {
  it("finds the eigenvalues of hand-computed symmetric matrices", () => {
    // [[2,1],[1,2]]: eigenvalues 1 and 3.
    expect(Array.from(symmetricEigenvalues([2, 1, 1, 2], 2)).sort()).toEqual([1, 3].map((v) => expect.closeTo(v, 12)));
    // [[4,2],[2,3]]: det 8.
    expect(eigenLogAbsDet([4, 2, 2, 3], 2)).toBeCloseTo(Math.log(8), 12);
    // A 3x3 with det = 2*(3*2 - 1*1) - 1*(1*2 - 1*0) = 8.
    expect(eigenLogAbsDet([2, 1, 0, 1, 3, 1, 0, 1, 2], 3)).toBeCloseTo(Math.log(8), 12);
    // Indefinite: [[1,2],[2,1]] has eigenvalues -1 and 3, |det| = 3.
    expect(eigenLogAbsDet([1, 2, 2, 1], 2)).toBeCloseTo(Math.log(3), 12);
    expect(eigenLogAbsDet([1, 1, 1, 1], 2)).toBe(-Infinity);
  });

  it("counts agreements of binary codes from the definition", () => {
    // codes 101, 110, 101: agree on 3 with themselves, 1 between the first two, 3 between the first and last.
    expect(Array.from(agreementKernel([[1, 0, 1], [1, 1, 0], [1, 0, 1]]))).toEqual([3, 1, 3, 1, 3, 1, 3, 1, 3]);
  });
});
