// The benches' charts: reap time against N from the scale table, and a density run's up and destroy over time.
import * as fs from "node:fs";
import * as path from "node:path";
import { countsOverTimeSvg, scalingSvg } from "../../measure/charts/charts";
import type { Timeline } from "../density/timeline";
import { reportsOf, RESULTS } from "./paths";

/** The scale bench's reap chart, drawn from its table in bench/results.md. */
export const REAP_SVG = path.join(reportsOf("scale"), "reap.svg");
/** The density bench's charts of up and destroy over time, one pair per layout. */
export const DENSITY_CHARTS = reportsOf("density");

/** Rows of the scale table: `| N | operation | wall s | ...`. */
export function scaleRows(markdown: string): { n: number; operation: string; seconds: number }[] {
    return markdown.split("\n")
        .map((l) => l.split("|").map((c) => c.trim()))
        .filter((c) => c.length > 4 && /^\d+$/.test(c[1]) && /^\d+(\.\d+)?$/.test(c[3]))
        .map((c) => ({ n: Number(c[1]), operation: c[2], seconds: Number(c[3]) }));
}

/** Seconds to reap N hollow Nodes and their Leases, per way of doing it, on a log scale (kubectl's are minutes). */
export function reapSvg(markdown: string): string {
    const points = scaleRows(markdown).filter((r) => r.operation.startsWith("reap: "))
        .map((r) => ({ x: r.n, series: r.operation.slice("reap: ".length), y: r.seconds }));
    if (points.length === 0) {
        throw new Error("no reap rows in the scale table");
    }
    return scalingSvg("Reap: N hollow Nodes and their Leases, until gone", points, "hollow Nodes (N)", "seconds (log)", true);
}

/** Cumulative counts of what the timeline saw happen, seconds after `t0`, one step line per series. */
function cumulative(series: string, times: readonly (number | undefined)[], t0: number) {
    const ts = times.filter((t): t is number => t !== undefined && t >= t0).map((t) => (t - t0) / 1000).sort((a, b) => a - b);
    return [{ t: 0, series, value: 0 }, ...ts.map((t, i) => ({ t, series, value: i + 1 }))];
}

/** A density run's `up` (containers started, Nodes registered and Ready) and `destroy` (pods and Nodes gone). */
export function densitySvgs(tl: Timeline, upStart: number, destroyStart: number, label: string): { up: string; destroy: string } {
    const pods = [...tl.pods.values()];
    const nodes = [...tl.nodes.values()];
    const up = countsOverTimeSvg(`pulumi up: ${label}`, [
        ...cumulative("containers started", pods.flatMap((p) => [...p.started.values()]), upStart),
        ...cumulative("Nodes registered", nodes.map((n) => n.created), upStart),
        ...cumulative("Nodes Ready", nodes.map((n) => n.ready), upStart),
    ], "count");
    const destroy = countsOverTimeSvg(`pulumi destroy: ${label}`, [
        ...cumulative("hollow pods gone", pods.map((p) => p.deleted), destroyStart),
        ...cumulative("Nodes gone", nodes.map((n) => n.deleted), destroyStart),
        ...cumulative("Leases gone", [...tl.leases.values()].map((l) => l.deleted), destroyStart),
    ], "count");
    return { up, destroy };
}

/** `npm run bench:plots`: redraws the reap chart from the committed scale table. */
if (require.main === module) {
    fs.mkdirSync(path.dirname(REAP_SVG), { recursive: true });
    fs.writeFileSync(REAP_SVG, reapSvg(fs.readFileSync(RESULTS, "utf8")));
    console.log(`wrote ${REAP_SVG}`);
}
