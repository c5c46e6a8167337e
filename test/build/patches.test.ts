// The source patches against the real upstream files of every tested release (the newest patch of each minor).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import type { KubernetesVersion } from "../../components/config/settings";
import {
    CRIO_MINORS, crioEndpointPatch, HOLLOW_KUBELET_FILE, imageTag, inMinors, patchesFor, PROXY_HEALTH_MINORS, PROXY_HEALTH_PATCH,
    PROXY_SERVER_FILE,
} from "../../components/image/patches";
import { TESTED_RELEASES } from "../../components/config/releases";
import { applyPatchText, patchTree } from "../../scripts/patch-source";
import { upstreamSource } from "../harness/upstream";

const HOLLOW_PROXY_FILE = "pkg/proxy/kubemark/hollow_proxy.go";

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

/**
 * Why a patch is left out of a tested release: its anchor must then be gone, or the fix be there, so that leaving it
 * out is a fact read off the source rather than a hope. v1.29's gate is off by default (the handler is there but not
 * reached); v1.34 and later no longer have the handler at all.
 */
const WHY_NO_PROXYFIX = (minor: number) => (minor < PROXY_HEALTH_MINORS.from ? "gate off by default" : "NodeEligibleHandler gone");

describe("source patches on real upstream releases", () => {
    it("tests the newest patch of every tested minor, one release per minor, oldest first", () => {
        const minors = TESTED_RELEASES.map((r) => version(r).minor);
        assert.deepEqual(minors, [...minors].sort((a, b) => a - b));
        assert.equal(new Set(minors).size, minors.length);
        assert.equal(TESTED_RELEASES[0], "v1.29.15");
    });
    for (const release of TESTED_RELEASES) {
        const v = version(release);
        const crio = inMinors(v.minor, CRIO_MINORS);
        const proxy = inMinors(v.minor, PROXY_HEALTH_MINORS);
        it(`${release}: crio ${crio ? "applies" : "not needed"}, proxyfix ${proxy ? "applies" : `not needed (${WHY_NO_PROXYFIX(v.minor)})`}, idempotent, gofmt-clean`, () => {
            const dir = upstreamSource(release);
            const patches = patchesFor(v, { crioSocket: "/run/crio/crio.sock", proxyHealth: true });
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
            const server = fs.readFileSync(path.join(dir, PROXY_SERVER_FILE), "utf8");
            if (proxy) {
                assert.match(applyPatchText(server, PROXY_HEALTH_PATCH, release).text, /if s\.HealthzServer != nil( &&|\s*\{)/);
            } else if (v.minor < PROXY_HEALTH_MINORS.from) {
                assert.match(server, /if utilfeature\.DefaultFeatureGate\.Enabled\(features\.KubeProxyDrainingTerminatingNodes\)/);
            } else {
                // Not looked for here, so its missing anchor is no error; node handlers need a NodeManager.
                assert.doesNotMatch(server, /NodeEligibleHandler/);
                assert.match(server, /if s\.NodeManager != nil \{/);
                assert.doesNotMatch(fs.readFileSync(path.join(dir, HOLLOW_PROXY_FILE), "utf8"), /NodeManager/);
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
        ["v1.33.13", { proxyHealth: true }, "v1.33.13-proxyfix"],
        ["v1.34.0", { proxyHealth: true }, "v1.34.0"],
        ["v1.37.2", { proxyHealth: true }, "v1.37.2"],
        ["v1.37.2", { crioSocket: "/run/crio/crio.sock", proxyHealth: true }, "v1.37.2-crio"],
        ["v1.38.0", { crioSocket: "/run/crio/crio.sock", proxyHealth: true }, "v1.38.0-crio"],
    ];
    for (const [release, choice, tag] of cases) {
        it(`${release} ${JSON.stringify(choice)} → ${tag}`, () => {
            assert.equal(imageTag(version(release), patchesFor(version(release), choice)), tag);
        });
    }
});
