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
import {
    CAPACITY_LOGGER_MINORS, CAPACITY_MINORS, fleetSourceDir, HOLLOW_NODE_FILE, LIFECYCLE_MINORS, POD_IPS_MINORS,
} from "../../components/image/fleetPatches";
import { EXIT_CODE_ANNOTATION, NODE_CAPACITY_FLAG, NODE_CAPACITY_KEYS, RUN_SECONDS_ANNOTATION } from "../../components/image/fleetFlags";
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
            const patches = patchesFor(v, { crioSocket: "/run/crio/crio.sock", proxyHealth: true, fleet: false });
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
        const lines = patchTree({ root: dir, release: "v1.31.14", patches: patchesFor(version("v1.31.14"), { crioSocket: "/var/run/crio/crio.sock", proxyHealth: true, fleet: false }), mode: "overlay", outDir: out });
        assert.equal(lines.length, 2);
        const overlay = JSON.parse(fs.readFileSync(path.join(out, "overlay.json"), "utf8")).Replace as Record<string, string>;
        assert.deepEqual(Object.keys(overlay).sort(), [path.join(dir, HOLLOW_KUBELET_FILE), path.join(dir, PROXY_SERVER_FILE)].sort());
        assert.match(fs.readFileSync(overlay[path.join(dir, HOLLOW_KUBELET_FILE)], "utf8"), /unix:\/\/\/var\/run\/crio\/crio\.sock/);
        assert.match(fs.readFileSync(path.join(dir, HOLLOW_KUBELET_FILE), "utf8"), /unix:\/\/\/run\/containerd\/containerd\.sock/);
    });
});

const count = (text: string, part: string) => text.split(part).length - 1;

describe("fleet patches on real upstream releases", () => {
    for (const release of TESTED_RELEASES) {
        const v = version(release);
        const expected = [[CAPACITY_MINORS, "capacity"], [POD_IPS_MINORS, "podips"], [LIFECYCLE_MINORS, "lifecycle"]] as const;
        const ids = expected.filter(([range]) => inMinors(v.minor, range)).map(([, id]) => id);
        it(`${release}: ${ids.join(", ")} apply once in order after the others, unique anchors, idempotent, gofmt-clean`, () => {
            const dir = upstreamSource(release);
            const patches = patchesFor(v, { proxyHealth: true, crioSocket: "/run/crio/crio.sock", fleet: true });
            const fleet = patches.slice(patches.length - ids.length);
            assert.deepEqual(fleet.map((p) => p.id), ids, "the fleet patches come last, in a fixed order");
            const original = fs.readFileSync(path.join(dir, HOLLOW_NODE_FILE), "utf8");
            let text = original;
            for (const patch of fleet) {
                assert.equal(patch.file, HOLLOW_NODE_FILE);
                assert.equal(count(original, patch.variants[0].anchor), 1, `${patch.id}: its anchor occurs once in ${release}`);
                const once = applyPatchText(text, patch, release);
                assert.equal(once.status, "applied");
                text = once.text;
            }
            for (const patch of fleet) {
                assert.equal(applyPatchText(text, patch, release).status, "already-applied", `${patch.id} again changes nothing`);
            }
            assert.ok(gofmtClean(text), `${HOLLOW_NODE_FILE} of ${release} is not gofmt-clean after the fleet patches`);
            assert.match(text, /hollowNodeCapacity\.cadvisor\(cadvisorInterface\)/);
            assert.match(text, /runtimeService = withPodIPs\(runtimeService, client\.CoreV1\(\)\.Nodes\(\), config\.NodeName\)\n\n\t\truntimeService = withLifecycle\(runtimeService\)\n\n/);
            for (const add of fleet.flatMap((p) => p.adds ?? [])) {
                assert.ok(!fs.existsSync(path.join(dir, add.file)), `${add.file} is new to ${release}`);
                assert.ok(gofmtClean(add.content), `${add.file} is gofmt-clean`);
                assert.match(add.content, /^\/\/ kubemark-pulumi: .*\n\npackage app\n/);
            }
        });

        it(`${release}: the sources say what the fleet patches rely on`, () => {
            const dir = upstreamSource(release);
            const read = (file: string) => fs.readFileSync(path.join(dir, file), "utf8");
            // The kubelet hands the Node's podCIDRs, comma-joined, to the runtime through UpdateRuntimeConfig.
            assert.match(read("pkg/kubelet/kubelet_node_status.go"), /podCIDRs := strings\.Join\(node\.Spec\.PodCIDRs, ","\)\n.*kl\.updatePodCIDR\(ctx, podCIDRs\)/);
            assert.match(read("pkg/kubelet/kuberuntime/kuberuntime_manager.go"), /UpdateRuntimeConfig\(ctx,\s*&runtimeapi\.RuntimeConfig\{\s*NetworkConfig: &runtimeapi\.NetworkConfig\{\s*PodCidr: podCIDR,/);
            // Pod IPs come from the ready sandbox's status; the fake runtime gives every sandbox one address.
            assert.match(read("pkg/kubelet/kuberuntime/kuberuntime_manager.go"), /SANDBOX_READY \{\n\s*podIPs = m\.determinePodSandboxIPs\(/);
            // Ephemeral storage comes from the container manager, whose stub says 0 and reserves nothing.
            assert.match(read("pkg/kubelet/nodestatus/setters.go"), /initialCapacity\[v1\.ResourceEphemeralStorage\]/);
            const stub = read("pkg/kubelet/cm/container_manager_stub.go");
            assert.match(stub, /GetNodeAllocatableReservation\(\) v1\.ResourceList \{\n\treturn nil\n\}/);
            assert.match(stub, /v1\.ResourceEphemeralStorage: \*resource\.NewQuantity\(\n\s*int64\(0\),/);
            // The capacity wrappers' methods have the release's signatures (the build test compiles them too).
            const logger = inMinors(v.minor, CAPACITY_LOGGER_MINORS);
            const types = read("pkg/kubelet/cadvisor/types.go");
            assert.match(types, logger ? /MachineInfo\(logger klog\.Logger\)/ : /MachineInfo\(\) \(\*cadvisorapi\.MachineInfo, error\)/);
            assert.match(stub, logger ? /GetCapacity\(_ klog\.Logger, localStorageCapacityIsolation bool\)/ : /GetCapacity\(localStorageCapacityIsolation bool\)/);
            // Pod annotations reach CreateContainer in the sandbox config; allocatable follows the default eviction.
            assert.match(read("pkg/kubelet/kuberuntime/kuberuntime_sandbox.go"), /Annotations: newPodAnnotations\(pod\)/);
            assert.match(read("pkg/kubelet/eviction/defaults_linux.go"), /"memory\.available":\s+"100Mi",\n\s+"nodefs\.available":\s+"10%"/);
        });
    }

    it("the Go files and the TypeScript share the flag's name, keys and the annotations", () => {
        const go = (name: string) => fs.readFileSync(path.join(fleetSourceDir(), name), "utf8");
        assert.match(go("capacity.go"), new RegExp(`nodeCapacityFlag\\s+= "${NODE_CAPACITY_FLAG.slice(2)}"`));
        assert.match(go("capacity.go"), new RegExp(`nodeCapacityKeys\\s+= \\[\\]string\\{${NODE_CAPACITY_KEYS.map((k) => `"${k}"`).join(", ")}\\}`));
        assert.match(go("lifecycle.go"), new RegExp(`runSecondsAnnotation = "${RUN_SECONDS_ANNOTATION}"`));
        assert.match(go("lifecycle.go"), new RegExp(`exitCodeAnnotation\\s+= "${EXIT_CODE_ANNOTATION}"`));
    });

    it("adds a patch's new files to the overlay beside the edited one, and refuses to replace an upstream file", () => {
        const dir = upstreamSource("v1.37.2");
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "overlay-"));
        const patches = patchesFor(version("v1.37.2"), { proxyHealth: true, fleet: true });
        const lines = patchTree({ root: dir, release: "v1.37.2", patches, mode: "overlay", outDir: out });
        assert.ok(lines.includes("patch capacity: added cmd/kubemark/app/kubemark_pulumi_capacity_methods.go"), lines.join("\n"));
        const overlay = JSON.parse(fs.readFileSync(path.join(out, "overlay.json"), "utf8")).Replace as Record<string, string>;
        const added = path.join(dir, "cmd/kubemark/app/kubemark_pulumi_capacity_methods.go");
        assert.match(fs.readFileSync(overlay[added], "utf8"), /MachineInfo\(logger klog\.Logger\)/, "v1.37's signatures");
        assert.equal(Object.keys(overlay).length, 1 + 4, "hollow_node.go and the four added files");
        assert.ok(!fs.existsSync(added), "the module cache is untouched");
        const clash = { ...patches[0], adds: [{ file: HOLLOW_NODE_FILE, content: "package app\n" }] };
        assert.throws(() => patchTree({ root: dir, release: "v1.37.2", patches: [clash], mode: "overlay", outDir: out }),
            /patch capacity adds cmd\/kubemark\/app\/hollow_node\.go, but v1\.37\.2 has a different file of that name/);
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
    it("the fleet patches go last, for every minor from v1.29", () => {
        assert.equal(imageTag(version("v1.29.15"), patchesFor(version("v1.29.15"), { proxyHealth: true, fleet: true })), "v1.29.15-capacity-podips-lifecycle");
        assert.equal(imageTag(version("v1.31.0"), patchesFor(version("v1.31.0"), { crioSocket: "/run/crio/crio.sock", proxyHealth: true, fleet: true })),
            "v1.31.0-crio-proxyfix-capacity-podips-lifecycle");
        assert.equal(imageTag(version("v1.28.0"), patchesFor(version("v1.28.0"), { proxyHealth: true, fleet: true })), "v1.28.0");
    });
    for (const [release, choice, tag] of cases) {
        it(`${release} ${JSON.stringify(choice)} → ${tag}`, () => {
            assert.equal(imageTag(version(release), patchesFor(version(release), { ...choice, fleet: false })), tag);
        });
    }
});
