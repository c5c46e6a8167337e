// Where the benches write: bench/results.md, each bench's committed reports and charts, and partial runs' files.
import * as path from "node:path";
import { BUILD, ROOT } from "../../test/harness/paths";

/** bench/ in the repository (not its compiled copy): results.md, README.md, reports/. */
export const BENCH = path.join(ROOT, "bench");
/** The figures of the last full runs, with links to charts and reports relative to it. */
export const RESULTS = path.join(BENCH, "results.md");
/** Everything the benches generate and the repository keeps, one folder per bench (scale, density, measure, ...). */
export const REPORTS = path.join(BENCH, "reports");
/** The compiled tree (build-bench/): partial runs and logs go there, beside the build, not into the repository. */
export const BENCH_BUILD = BUILD;

/** One bench's folder under reports/. */
export function reportsOf(bench: string): string {
    return path.join(REPORTS, bench);
}

/** A file's link as written in bench/results.md: relative to it, with forward slashes. */
export function resultsLink(file: string): string {
    return path.relative(path.dirname(RESULTS), file).split(path.sep).join("/");
}
