// The lab benches' sections of bench/results.md: each starts at its own marker comment and ends at the next one.
import * as fs from "node:fs";
import { RESULTS } from "./paths";

const MARKER_LINE = "\n<!-- ";

/** Where the section that starts at `start` ends: the next section's marker, or the end of the text. */
export function sectionEnd(text: string, start: number): number {
    const next = text.indexOf(MARKER_LINE, start + 1);
    return next < 0 ? text.length : next + 1;
}

/** `text` with the section that starts with `marker` replaced by `md` (starting with the marker), or `md` appended. */
export function withSection(text: string, marker: string, md: string): string {
    const at = text.indexOf(marker);
    if (at < 0) {
        return `${text.trimEnd()}\n\n${md.trimEnd()}\n`;
    }
    const rest = text.slice(sectionEnd(text, at));
    return `${text.slice(0, at).trimEnd()}\n\n${md.trimEnd()}\n${rest ? `\n${rest.trimStart()}` : ""}`;
}

export function writeSection(marker: string, md: string, file = RESULTS): string {
    const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    fs.writeFileSync(file, withSection(old, marker, md));
    return file;
}

/** Every lab section of the results (what `npm run bench` does not repeat and keeps), "" when there is none. */
export function labSections(file = RESULTS): string {
    const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    const at = old.indexOf(MARKER_LINE);
    return at < 0 ? "" : old.slice(at + 1);
}
