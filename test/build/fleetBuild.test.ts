// Every tested release built with the fleet patches through the image script, the flag checked on the binary, and
// the patches' Go unit tests run inside each patched tree (its own Go, its own CRI and kubelet packages).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { TESTED_RELEASES, parseRelease } from "../../components/config/releases";
import { fleetSourceDir } from "../../components/image/fleetPatches";
import { NODE_CAPACITY_FLAG, POD_CIDR_LOOKUP_FLAG } from "../../components/image/fleetFlags";
import { imageTag, patchesFor } from "../../components/image/patches";
import { defaultCacheDir, imagePlan } from "../../components/image/plan";

import { ROOT } from "../harness/paths";

const cache = defaultCacheDir(process.env);

describe("kubemark builds with the fleet patches, every tested release", () => {
    for (const release of TESTED_RELEASES) {
        it(`${release}: builds, has ${NODE_CAPACITY_FLAG} and ${POD_CIDR_LOOKUP_FLAG}, refuses a fraction of a core and an unknown lookup, and its Go tests pass`, { timeout: 3_600_000 }, () => {
            const version = parseRelease(release)!;
            const patches = patchesFor(version, { proxyHealth: true, fleet: true });
            const plan = imagePlan({
                version: release, registry: "127.0.0.1:5000", tag: imageTag(version, patches), patches, source: "module",
                cacheDir: cache, baseImage: "scratch",
            });
            const env = (name: string) => ({ ...process.env, ...plan.steps.find((s) => s.name === name)!.env, KM_NODE: process.execPath });
            const step = (name: string) => {
                const started = Date.now();
                const out = execFileSync("bash", ["scripts/kubemark-image.sh", name], { cwd: ROOT, env: env(name), encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
                console.log(`${release} ${name}: ${((Date.now() - started) / 1000).toFixed(1)}s: ${out.trim()}`);
                return out;
            };
            step("fetch");
            assert.match(step("patch"), /^overlay .*overlay\.json [0-9a-f]{16}$/m);
            assert.match(step("build"), /^kubemark [0-9a-f]{64}$/m);

            const kubemark = path.join(plan.contextDir, "kubemark");
            const help = spawnSync(kubemark, ["--help"], { encoding: "utf8" });
            assert.match(help.stdout + help.stderr, /--node-capacity \S+\s+Capacity the hollow Node reports/);
            const bad = spawnSync(kubemark, ["--morph=kubelet", "--node-capacity=cpu=1.5"], { encoding: "utf8" });
            assert.notEqual(bad.status, 0);
            assert.match(bad.stderr, /invalid argument "cpu=1\.5" for "--node-capacity" flag: cpu=1\.5: must be whole cores/);
            assert.match(help.stdout + help.stderr, new RegExp(`${POD_CIDR_LOOKUP_FLAG} \\S+\\s+When a pod sandbox is made before`));
            const lookup = spawnSync(kubemark, ["--morph=kubelet", `${POD_CIDR_LOOKUP_FLAG}=sometimes`], { encoding: "utf8" });
            assert.notEqual(lookup.status, 0);
            assert.match(lookup.stderr, /invalid argument "sometimes" for "--pod-cidr-lookup" flag: accepted: young-node, always, never/);

            // The tree the build read: hard links to the module cache with the patched and added files in place.
            const patched = path.join(cache, "patched", `${release}-${patches.map((p) => p.id).join("-")}`);
            const app = path.join(patched, "kubernetes", "cmd", "kubemark", "app");
            for (const name of ["capacity", "capacity_methods", "podips", "lifecycle"]) {
                assert.ok(fs.existsSync(path.join(app, `kubemark_pulumi_${name}.go`)), `${name} added to the tree`);
            }
            fs.copyFileSync(path.join(fleetSourceDir(), "fleet_test.go"), path.join(app, "kubemark_pulumi_fleet_test.go"));
            const toolchain = `go${fs.readFileSync(path.join(patched, "kubernetes", ".go-version"), "utf8").trim()}`;
            const started = Date.now();
            try {
                const out = execFileSync("go", ["test", "-trimpath", "-count=1", "-run", "^TestFleet", "k8s.io/kubernetes/cmd/kubemark/app"], {
                    cwd: path.join(cache, "module", release), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
                    // The build's flags, so the test reuses its compiled packages.
                    env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: toolchain, GOFLAGS: `-mod=mod -modfile=${path.join(patched, "go.mod")}` },
                });
                console.log(`${release} go test (${toolchain}): ${((Date.now() - started) / 1000).toFixed(1)}s: ${out.trim()}`);
                assert.match(out, /^ok\s+k8s\.io\/kubernetes\/cmd\/kubemark\/app/m);
            } finally {
                fs.rmSync(path.join(app, "kubemark_pulumi_fleet_test.go"));
            }
        });
    }
});
