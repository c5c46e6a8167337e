// The README's supported-releases line, written by npm run docs from bench:versions' last full run.
import * as fs from "node:fs";
import { VERSIONS_JSON } from "./versionsReport";

interface Row { release: string; target: string; holds: boolean; error?: string }

export const SUPPORTED_OPEN = "<!-- supported: npm run docs writes it from bench/reports/versions/versions.json -->";
export const SUPPORTED_CLOSE = "<!-- /supported -->";

export function readVersionRows(file = VERSIONS_JSON): Row[] {
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) as Row[] : [];
}

const minorOf = (r: string) => r.split(".").slice(0, 2).join(".");

/** `v1.29–v1.37`, or the minors one by one when they are not consecutive. */
function minorsText(rows: readonly Row[]): string {
    const minors = rows.map((r) => Number(r.release.split(".")[1]));
    const consecutive = minors.every((m, i) => i === 0 || m === minors[i - 1] + 1);
    return consecutive && minors.length > 1 ? `${minorOf(rows[0].release)}–${minorOf(rows[rows.length - 1].release)}`
        : rows.map((r) => minorOf(r.release)).join(", ");
}

/** One line: which releases held in the last full bench:versions run, and which did not. */
export function supportedLine(rows: readonly Row[]): string {
    if (rows.length === 0) {
        return "**Releases**: no `npm run bench:versions` run is recorded yet.";
    }
    const held = rows.filter((r) => r.holds);
    const not = rows.filter((r) => !r.holds);
    return `**Releases**: ${held.length > 0 ? `${minorsText(held)} (${held.map((r) => r.release).join(", ")})` : "none"} each built, ` +
        "10 hollow Nodes Ready against a control plane of its own release, measured and destroyed with nothing left, no refusal in " +
        "a hollow log ([bench/results.md](bench/results.md), Versions)" +
        (not.length > 0 ? `; not holding: ${not.map((r) => r.release).join(", ")}` : "") +
        ". A newer release is accepted with a warning.";
}

export function withSupportedLine(readme: string, rows: readonly Row[]): string {
    const start = readme.indexOf(SUPPORTED_OPEN);
    const end = readme.indexOf(SUPPORTED_CLOSE);
    if (start < 0 || end < start) {
        throw new Error(`the README has no ${SUPPORTED_OPEN} ... ${SUPPORTED_CLOSE} line`);
    }
    return `${readme.slice(0, start + SUPPORTED_OPEN.length)}${supportedLine(rows)}${readme.slice(end)}`;
}
