// Where things are, for code compiled into build/ (tests, e2e) or build-bench/ (bench): two levels under the root.
import * as path from "node:path";

/** The repository's root. */
export const ROOT = path.resolve(__dirname, "..", "..", "..");
/** The compiled tree this file is in (build/ or build-bench/), with index.js at its top. */
export const BUILD = path.resolve(__dirname, "..", "..");
