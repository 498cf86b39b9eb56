// Writes schema/schema.graphql from the built Pothos schema (`npm run schema:print`);
// test/schema.test.ts fails when the checked-in file differs.
import { writeFileSync } from "node:fs";
import { printedSchema } from "../schema/dist/index.js";

writeFileSync(new URL("../schema/schema.graphql", import.meta.url), printedSchema());
console.error("wrote schema/schema.graphql");
