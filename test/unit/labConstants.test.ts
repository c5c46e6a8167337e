// The lab's constants file: the TypeScript reads exactly what bash sources, and refuses what bash would read otherwise.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { CONSTANTS_FILE, LAB_CONSTANTS, parseEnvFile } from "../../lab/constants";

describe("lab constants", () => {
    it("are what bash gets by sourcing lab/constants.env", () => {
        const keys = Object.keys(LAB_CONSTANTS);
        const script = `source "$0"; for k in ${keys.join(" ")}; do printf '%s=%s\\n' "$k" "\${!k}"; done`;
        const fromBash = parseEnvFile(execFileSync("bash", ["-c", script, CONSTANTS_FILE], { encoding: "utf8" }));
        assert.deepEqual(fromBash, { ...LAB_CONSTANTS });
    });

    it("hold every key the file sets, and the file sets nothing the TypeScript does not know", () => {
        assert.deepEqual(Object.keys(parseEnvFile(fs.readFileSync(CONSTANTS_FILE, "utf8"))).sort(), Object.keys(LAB_CONSTANTS).sort());
    });

    const refused: [string, string][] = [
        ["a quoted value", "NETNS=\"kmlab\""],
        ["an expansion", "REGISTRY=$HOST:5000"],
        ["a space", "NETNS=km lab"],
        ["a lowercase key", "netns=kmlab"],
        ["no =", "NETNS"],
    ];
    for (const [what, line] of refused) {
        it(`refuses ${what}, naming the line`, () => {
            assert.throws(() => parseEnvFile(`# ok\n\n${line}\n`), /constants\.env:3: not KEY=value/);
        });
    }
});
