// The source patches against the real upstream files of v1.29 to v1.33 (latest patch of each).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import type { KubernetesVersion } from "../../components/config/settings";
import {
    crioEndpointPatch, HOLLOW_KUBELET_FILE, imageTag, patchesFor, PROXY_HEALTH_PATCH, PROXY_SERVER_FILE,
} from "../../components/image/patches";
import { applyPatchText, patchTree } from "../../scripts/patch-source";
import { TESTED_RELEASES, upstreamSource } from "../harness/upstream";

const version = (text: string): KubernetesVersion => {
    const [major, minor, patch] = text.slice(1).split(".").map(Number);
    return { text, major, minor, patch };
};
const gofmtClean = (text: string) => {
    // gofmt -l lists the file when its formatting differs; -e fails on any syntax error.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gofmt-")), "x.go");
    fs.writeFileSync(file, text);
    return execFileSync("gofmt", ["-e", "-l", file], { encoding: "utf8" }).trim() === "";
};

// [release, crio patch applies, proxy patch applies]
const expectations: [string, boolean, boolean][] = [
    ["v1.29.15", true, false],
    ["v1.30.14", true, true],
    ["v1.31.14", true, true],
    ["v1.32.13", true, true],
    ["v1.33.13", true, true],
];

describe("source patches on real upstream releases", () => {
    it("covers the latest patch of every tested minor", () => {
        assert.deepEqual(expectations.map(([r]) => r), [...TESTED_RELEASES]);
    });
    for (const [release, crio, proxy] of expectations) {
        it(`${release}: crio ${crio ? "applies" : "not needed"}, proxyfix ${proxy ? "applies" : "not needed"}, idempotent, gofmt-clean`, () => {
            const dir = upstreamSource(release);
            const patches = patchesFor(version(release), { crioSocket: "/run/crio/crio.sock", proxyHealth: true });
            assert.deepEqual(patches.map((p) => p.id), [...(crio ? ["crio"] : []), ...(proxy ? ["proxyfix"] : [])]);
            for (const patch of patches) {
                const original = fs.readFileSync(path.join(dir, patch.file), "utf8");
                const once = applyPatchText(original, patch, release);
                assert.equal(once.status, "applied");
                assert.notEqual(once.text, original);
                const twice = applyPatchText(once.text, patch, release);
                assert.equal(twice.status, "already-applied");
                assert.equal(twice.text, once.text);
                assert.ok(gofmtClean(once.text), `${patch.file} of ${release} is not gofmt-clean after ${patch.id}`);
            }
            if (proxy) {
                const patched = applyPatchText(fs.readFileSync(path.join(dir, PROXY_SERVER_FILE), "utf8"), PROXY_HEALTH_PATCH, release).text;
                assert.match(patched, /if s\.HealthzServer != nil( &&|\s*\{)/);
            }
        });
    }

    it("fails a needed patch whose anchor is missing, naming the file and the release", () => {
        const text = fs.readFileSync(path.join(upstreamSource("v1.31.14"), PROXY_SERVER_FILE), "utf8").replace(/NodeEligibleHandler/g, "Renamed");
        assert.throws(() => applyPatchText(text, PROXY_HEALTH_PATCH, "v1.31.14"),
            /patch proxyfix is needed for v1\.31\.14 but its anchor text is not in cmd\/kube-proxy\/app\/server\.go/);
    });

    it("writes an overlay for the Go-module source without touching the module cache", () => {
        const dir = upstreamSource("v1.31.14");
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "overlay-"));
        const lines = patchTree({ root: dir, release: "v1.31.14", patches: patchesFor(version("v1.31.14"), { crioSocket: "/var/run/crio/crio.sock", proxyHealth: true }), mode: "overlay", outDir: out });
        assert.equal(lines.length, 2);
        const overlay = JSON.parse(fs.readFileSync(path.join(out, "overlay.json"), "utf8")).Replace as Record<string, string>;
        assert.deepEqual(Object.keys(overlay).sort(), [path.join(dir, HOLLOW_KUBELET_FILE), path.join(dir, PROXY_SERVER_FILE)].sort());
        assert.match(fs.readFileSync(overlay[path.join(dir, HOLLOW_KUBELET_FILE)], "utf8"), /unix:\/\/\/var\/run\/crio\/crio\.sock/);
        assert.match(fs.readFileSync(path.join(dir, HOLLOW_KUBELET_FILE), "utf8"), /unix:\/\/\/run\/containerd\/containerd\.sock/);
    });
});

describe("patch set and tag", () => {
    const cases: [string, { crioSocket?: string; proxyHealth: boolean }, string][] = [
        ["v1.29.15", { proxyHealth: true }, "v1.29.15"],
        ["v1.30.4", { proxyHealth: true }, "v1.30.4-proxyfix"],
        ["v1.31.0", { proxyHealth: false }, "v1.31.0"],
        ["v1.31.0", { crioSocket: "/run/crio/crio.sock", proxyHealth: true }, "v1.31.0-crio-proxyfix"],
        ["v1.31.0", { crioSocket: "/var/run/crio.sock", proxyHealth: false }, `v1.31.0-${crioEndpointPatch("/var/run/crio.sock").id}`],
    ];
    for (const [release, choice, tag] of cases) {
        it(`${release} ${JSON.stringify(choice)} → ${tag}`, () => {
            assert.equal(imageTag(version(release), patchesFor(version(release), choice)), tag);
        });
    }
});
