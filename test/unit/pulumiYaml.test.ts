// Pulumi.yaml declares every config key, and its defaults are the program's own.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { CONFIG_KEYS, SECRET_KEYS } from "../../components/config/settings";
import { parseSettings } from "../../components/config/read";
import { POOL_FIELD_NAMES } from "../../components/config/pools";

import { ROOT } from "../harness/paths";
const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string; config: Record<string, { type: string; description?: string; default?: unknown; secret?: boolean }>;
};

describe("Pulumi.yaml", () => {
    it("is the kubemark project on Node.js", () => assert.equal(project.name, "kubemark"));

    it("declares exactly the keys the program reads, each typed, described and defaulted", () => {
        assert.deepEqual(Object.keys(project.config).sort(), [...CONFIG_KEYS].sort());
        for (const [key, decl] of Object.entries(project.config)) {
            // The CLI's own type check would stop at a non-number before the program lists every problem.
            assert.ok(["string", "array"].includes(decl.type), `${key}: type ${decl.type}`);
            assert.ok((decl.description ?? "").length > 20, `${key}: description`);
            // The CLI stops at a declared key without a default before the program runs, hiding every other
            // problem: even the required version defaults to "" and the config reader names it.
            assert.notEqual(decl.default, undefined, `${key}: default`);
            // A declared secret would need an encrypted default; the program itself refuses plaintext credentials.
            assert.equal(decl.secret, undefined, `${key}: secret flag`);
            if (SECRET_KEYS.includes(key as never)) {
                assert.match(decl.description ?? "", /secret/, `${key}: description says secret`);
            }
        }
    });

    it("describes pools with every field the pool reader knows", () => {
        for (const field of POOL_FIELD_NAMES) {
            assert.match(project.config.pools.description ?? "", new RegExp(`\\b${field}\\b`), field);
        }
    });

    it("declares the same defaults the config reader applies", () => {
        const base = { "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "r:5000" };
        const raw = (extra: Record<string, string>) => ({ values: { ...extra, ...base }, secretKeys: new Set<string>(), project: "kubemark", stack: "s", env: { HOME: "/h" } });
        const declared: Record<string, string> = {};
        for (const [key, decl] of Object.entries(project.config)) {
            if (decl.default !== undefined) {
                declared[`kubemark:${key}`] = typeof decl.default === "string" ? decl.default : JSON.stringify(decl.default);
            }
        }
        assert.ok(Object.keys(declared).length >= 10);
        assert.deepEqual(parseSettings(raw(declared)), parseSettings(raw({})));
        // The CLI hands over every declared default: none may clash with a key set alone, as pools with replicas do.
        const pools = JSON.stringify([{ name: "general", replicas: 3 }]);
        assert.deepEqual(parseSettings(raw({ ...declared, "kubemark:pools": pools })), parseSettings(raw({ "kubemark:pools": pools })));
    });
});
