// The lab benches' sections of bench/results.md: one bench's run never drops another's.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labSections, withSection } from "../../bench/common/sections";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const D = "<!-- density: x -->";
const M = "<!-- measure: y -->";

describe("bench/results.md sections", () => {
    const cases: { name: string; text: string; marker: string; md: string; want: string }[] = [
        { name: "appended when missing", text: "# bench\n\ntable\n", marker: M, md: `${M}\nnew`, want: `# bench\n\ntable\n\n${M}\nnew\n` },
        { name: "replaced at the end", text: `# b\n\n${D}\nold d\n`, marker: D, md: `${D}\nnew d`, want: `# b\n\n${D}\nnew d\n` },
        { name: "replaced before another, which stays", text: `# b\n\n${D}\nold d\n\n${M}\nm\n`, marker: D, md: `${D}\nnew d\n`,
            want: `# b\n\n${D}\nnew d\n\n${M}\nm\n` },
        { name: "the second replaced, the first stays", text: `# b\n\n${D}\nd\n\n${M}\nold m\n`, marker: M, md: `${M}\nnew m`,
            want: `# b\n\n${D}\nd\n\n${M}\nnew m\n` },
    ];
    for (const c of cases) {
        it(c.name, () => assert.equal(withSection(c.text, c.marker, c.md), c.want));
    }

    it("labSections is every section from the first marker on, and empty without one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sections-"));
        const file = path.join(dir, "results.md");
        fs.writeFileSync(file, "# bench\n\nrows\n");
        assert.equal(labSections(file), "");
        fs.writeFileSync(file, `# bench\n\nrows\n\n${D}\nd\n\n${M}\nm\n`);
        assert.equal(labSections(file), `${D}\nd\n\n${M}\nm\n`);
        fs.rmSync(dir, { recursive: true });
    });
});
