// A real kubemark build through the Go-module source path, with patches, and the version it reports.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { defaultCacheDir, imagePlan } from "../../components/image/plan";
import { imageTag, patchesFor } from "../../components/image/patches";

import { ROOT } from "../harness/paths";
const RELEASE = { text: "v1.31.0", major: 1, minor: 31, patch: 0 };

describe("kubemark build from the Go module proxy", () => {
    it(`${RELEASE.text} with the proxy guard builds, and reports the release's version`, { timeout: 3_600_000 }, () => {
        // The proxy guard alone: fleetBuild.test.ts builds every tested release with the fleet patches too.
        const patches = patchesFor(RELEASE, { proxyHealth: true, fleet: false });
        const cache = defaultCacheDir(process.env);
        // The same plan KubemarkImage and the lab run.
        const plan = imagePlan({
            version: RELEASE.text, registry: "127.0.0.1:5000", tag: imageTag(RELEASE, patches), patches, source: "module",
            cacheDir: cache, baseImage: "scratch",
        });
        const context = plan.contextDir;
        const step = (name: string) => {
            const started = Date.now();
            const env = { ...process.env, ...plan.steps.find((s) => s.name === name)!.env, KM_NODE: process.execPath };
            const out = execFileSync("bash", ["scripts/kubemark-image.sh", name], { cwd: ROOT, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
            console.log(`${name}: ${((Date.now() - started) / 1000).toFixed(1)}s: ${out.trim()}`);
            return out;
        };
        assert.match(step("fetch"), /^module k8s\.io\/kubernetes@v1\.31\.0 [0-9a-f]{16}$/m);
        assert.match(step("patch"), /^overlay .*overlay\.json/m);
        assert.match(step("build"), /^kubemark [0-9a-f]{64}$/m);
        const version = execFileSync(path.join(context, "kubemark"), ["--version"], { encoding: "utf8" }).trim();
        assert.equal(version, "Kubernetes v1.31.0");
        assert.equal(fs.readFileSync(path.join(context, "Dockerfile"), "utf8"),
            "FROM scratch\nCOPY kubemark /kubemark\nCOPY passwd /etc/passwd\nCOPY group /etc/group\n");
        // The kubelet's user lookup (v1.33 on) needs the file, and no "kubelet" user in it.
        assert.match(fs.readFileSync(path.join(context, "passwd"), "utf8"), /^root:x:0:0:/);
        assert.doesNotMatch(fs.readFileSync(path.join(context, "passwd"), "utf8"), /^kubelet:/m);
        // The patched files, and the tree the build read them from: hard links to the module cache's files beside the
        // patched ones (Go 1.25+ refuses an overlay of files under GOMODCACHE), which itself stays pristine.
        const patched = path.join(cache, "patched", `${RELEASE.text}-proxyfix`);
        const overlay = JSON.parse(fs.readFileSync(path.join(patched, "overlay.json"), "utf8")) as { Replace: Record<string, string> };
        const server = Object.keys(overlay.Replace).find((f) => f.endsWith("cmd/kube-proxy/app/server.go"))!;
        assert.ok(server, JSON.stringify(overlay));
        assert.match(fs.readFileSync(path.join(patched, "go.mod"), "utf8"), new RegExp(`k8s\\.io/kubernetes => ${path.join(patched, "kubernetes")}`));
        assert.match(fs.readFileSync(path.join(patched, "kubernetes", "cmd/kube-proxy/app/server.go"), "utf8"), /s\.HealthzServer != nil/);
        assert.doesNotMatch(fs.readFileSync(server, "utf8"), /s\.HealthzServer != nil/, "the module cache is untouched");
        assert.equal(fs.statSync(path.join(patched, "kubernetes", "go.mod")).ino, fs.statSync(path.join(path.dirname(path.dirname(path.dirname(path.dirname(server)))), "go.mod")).ino,
            "unpatched files are the module cache's, linked");
    });
});
