// The README stays short, its links resolve, and its configuration table is the code's.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { CONFIG_KEYS } from "../../components/config/settings";
import { configTable, withConfigTable } from "../../components/config/table";
import { POOL_FIELD_NAMES, poolTable } from "../../components/config/pools";
import { ROOT } from "../harness/paths";
import { configDoc, readme } from "../harness/readme";
import { readVersionRows, withSupportedLine } from "../../bench/versions/supported";

/** A newcomer reads it on a screen or two; the rest is linked. */
const MAX_README_LINES = 200;

describe("README", () => {
    const text = readme();
    it(`fits in ${MAX_README_LINES} lines`, () => assert.ok(text.split("\n").length <= MAX_README_LINES, `${text.split("\n").length} lines`));
    it("links the configuration doc, which carries the tables the code makes (npm run docs rewrites them)", () => {
        assert.match(text, /\]\(docs\/configuration\.md\)/);
        assert.equal(withConfigTable(configDoc()), configDoc());
    });
    it("says which releases hold, as the last full bench:versions run found (npm run docs rewrites it)", () => {
        assert.equal(withSupportedLine(text, readVersionRows()), text);
    });
    it("has one row per config key, in the reader's order", () => {
        const keys = [...configTable().matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
        assert.deepEqual(keys, [...CONFIG_KEYS]);
    });
    it("has one row per pool field, in the pool reader's order", () => {
        const fields = [...poolTable().matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
        assert.deepEqual(fields, [...POOL_FIELD_NAMES]);
    });
    it("links only to files that exist", () => {
        const links = [...text.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^https?:/.test(l));
        assert.ok(links.length >= 5, links.join(", "));
        for (const link of links) {
            assert.ok(fs.existsSync(path.join(ROOT, link)), link);
        }
    });
    it("names the two commands a newcomer runs, and CI runs the second", () => {
        assert.match(text, /^npm ci && npm run demo$/m);
        const test = /^npm ci && npm run toolchain && npm test && npm run test:e2e$/m;
        assert.match(text, test);
        assert.match(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8"), test);
    });
});
