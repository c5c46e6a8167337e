// Several hollow nodes per pod: layout, Node names, which Nodes a pod stands behind, and the pod it builds. No mocks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { staleNodes } from "../../components/reaper/sync";
import { nodesBehind, podLayout, podNodesOf, podNodeNames, POD_NODES_ANNOTATION, statefulNodeNames } from "../../components/hollow/names";
import { GO_RUNTIME_ENV, HollowPodOptions, podSpec, workloadManifest } from "../../components/hollow/podspec";
import { KUBEMARK_IMAGE_ENDPOINT } from "../../components/config/defaults";
import { parseSettings } from "../../components/config/read";

describe("podLayout", () => {
    const cases: [number, number, { fullPods: number; rest: number; indexed: boolean }][] = [
        [10, 1, { fullPods: 10, rest: 0, indexed: false }],
        [0, 1, { fullPods: 0, rest: 0, indexed: false }],
        [0, 5, { fullPods: 0, rest: 0, indexed: true }],
        [25, 10, { fullPods: 2, rest: 5, indexed: true }],
        [30, 10, { fullPods: 3, rest: 0, indexed: true }],
        [3, 10, { fullPods: 0, rest: 3, indexed: true }],
    ];
    for (const [replicas, perPod, want] of cases) {
        it(`${replicas} nodes, ${perPod} per pod`, () => {
            assert.deepEqual(podLayout(replicas, perPod), { nodesPerPod: perPod, ...want });
        });
    }
    it("refuses a per-pod count below 1 or fractional", () => {
        assert.throws(() => podLayout(10, 0), /nodesPerPod must be a whole number of at least 1, got 0/);
        assert.throws(() => podLayout(10, 1.5), /got 1.5/);
    });
});

describe("Node names", () => {
    it("one per pod: the pod's own name, as upstream", () => {
        assert.deepEqual(statefulNodeNames("hollow-node-dev", 3, 1), ["hollow-node-dev-0", "hollow-node-dev-1", "hollow-node-dev-2"]);
        assert.deepEqual(podNodeNames("p", undefined), ["p"]);
    });
    it("several per pod: <pod>-<k>, then the last pod's rest", () => {
        assert.deepEqual(statefulNodeNames("w", 7, 3), ["w-0-0", "w-0-1", "w-0-2", "w-1-0", "w-1-1", "w-1-2", "w-last-0-0"]);
        assert.deepEqual(statefulNodeNames("w", 6, 3), ["w-0-0", "w-0-1", "w-0-2", "w-1-0", "w-1-1", "w-1-2"]);
    });
    it("are distinct and as many as replicas", () => {
        for (const [n, p] of [[100, 7], [5000, 10], [11, 11], [1, 50]]) {
            const names = statefulNodeNames("w", n, p);
            assert.equal(names.length, n);
            assert.equal(new Set(names).size, n);
        }
    });
    it("reads the pod annotation; anything but a positive whole number is the one-per-pod layout", () => {
        const cases: [Record<string, string> | undefined, number | undefined][] = [
            [{ [POD_NODES_ANNOTATION]: "5" }, 5], [{ [POD_NODES_ANNOTATION]: "0" }, undefined],
            [{ [POD_NODES_ANNOTATION]: "x" }, undefined], [{}, undefined], [undefined, undefined],
        ];
        for (const [annotations, want] of cases) {
            assert.equal(podNodesOf(annotations), want, JSON.stringify(annotations));
        }
    });
});

describe("staleNodes with several nodes per pod", () => {
    const node = (name: string) => ({ name, ready: true });
    it("keeps <pod>-<k> below the pod's count and sweeps the rest", () => {
        const pods = [{ name: "w-0", terminating: false, nodes: 2 }, { name: "w-last-0", terminating: false, nodes: 1 }];
        const nodes = ["w-0-0", "w-0-1", "w-0-2", "w-1-0", "w-last-0-0", "w-last-0-1", "w-0"].map(node);
        assert.deepEqual(staleNodes(nodes, pods).map((n) => n.name), ["w-0-2", "w-1-0", "w-last-0-1", "w-0"]);
    });
    it("maps a pod without the annotation to the Node of its own name (one per pod, or an older layout)", () => {
        const pods = [{ name: "w-0", terminating: true }, { name: "w-1", terminating: false, nodes: 2 }];
        assert.deepEqual([...nodesBehind(pods)].sort(), ["w-0", "w-1-0", "w-1-1"]);
        assert.deepEqual(staleNodes(["w-0", "w-0-0", "w-1", "w-1-1"].map(node), pods).map((n) => n.name), ["w-0-0", "w-1"]);
    });
});

function options(config: Record<string, string>, nodesInPod?: number): HollowPodOptions {
    const s = parseSettings({
        values: { "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "r:5000", ...config },
        secretKeys: new Set(), project: "kubemark", stack: "v1-31", env: { HOME: "/h" },
    });
    return {
        ...s, image: "r:5000/kubemark:v1.31.0", imageEndpoint: KUBEMARK_IMAGE_ENDPOINT, nodesInPod,
        credentialSecrets: ["hollow-node-v1-31-kubeconfig", "hollow-node-v1-31-certs-0"], perNodeCertificates: true,
    };
}

describe("a pod of several hollow nodes", () => {
    const spec = podSpec(options({}, 3));
    const byName = new Map<string, Record<string, unknown>>(spec.containers.map((c: { name: string }) => [c.name, c]));
    it("runs a kubelet and a proxy per node, named by index", () => {
        assert.deepEqual([...byName.keys()], ["hollow-kubelet-0", "hollow-proxy-0", "hollow-kubelet-1", "hollow-proxy-1", "hollow-kubelet-2", "hollow-proxy-2"]);
    });
    it("gives each kubelet its Node name, its own ports and its own certificate", () => {
        for (const k of [0, 1, 2]) {
            const c = byName.get(`hollow-kubelet-${k}`) as { args: string[]; ports: { containerPort: number }[]; volumeMounts: { mountPath: string; subPathExpr?: string; subPath?: string }[] };
            assert.ok(c.args.includes(`--name=$(NODE_NAME)-${k}`), c.args.join(" "));
            assert.ok(c.args.includes(`--kubelet-port=${10250 + 10 * k}`) && c.args.includes(`--kubelet-read-only-port=${10255 + 10 * k}`), c.args.join(" "));
            assert.deepEqual(c.ports.map((p) => p.containerPort), [10250 + 10 * k, 10255 + 10 * k]);
            assert.deepEqual(c.volumeMounts.filter((m) => m.subPathExpr).map((m) => m.subPathExpr), [`$(NODE_NAME)-${k}.crt`, `$(NODE_NAME)-${k}.key`]);
            assert.equal(c.volumeMounts.find((m) => m.mountPath === "/tmp")?.subPath, `node-${k}`);
            const proxy = byName.get(`hollow-proxy-${k}`) as { args: string[] };
            assert.ok(proxy.args.includes(`--name=$(NODE_NAME)-${k}`), proxy.args.join(" "));
        }
    });
    it("has all ports distinct across the pod", () => {
        const ports = podSpec(options({}, 50)).containers.flatMap((c: { ports?: { containerPort: number; name: string }[] }) => c.ports ?? []);
        assert.equal(ports.length, 100);
        assert.equal(new Set(ports.map((p: { containerPort: number }) => p.containerPort)).size, 100);
        assert.equal(new Set(ports.map((p: { name: string }) => p.name)).size, 100);
        assert.ok(ports.every((p: { name: string }) => p.name.length <= 15), "port names are at most 15 characters");
    });
    it("sets the Go runtime of every hollow process (measured: less CPU per idle hollow node)", () => {
        for (const c of spec.containers as { name: string; env: { name: string; value?: string }[] }[]) {
            assert.deepEqual(c.env.filter((e) => e.name.startsWith("GO")), [...GO_RUNTIME_ENV], c.name);
        }
    });
    it("drops the proxies when hollowProxy is off", () => {
        assert.deepEqual(podSpec(options({ "kubemark:hollowProxy": "false" }, 2)).containers.map((c: { name: string }) => c.name), ["hollow-kubelet-0", "hollow-kubelet-1"]);
    });
    it("announces its node count on the pod template; one per pod leaves the template as it was", () => {
        const indexed = workloadManifest({ ...options({}, 4), kind: "StatefulSet", namespace: "ns", replicas: 2 });
        assert.deepEqual(indexed.spec.template.metadata.annotations, { [POD_NODES_ANNOTATION]: "4" });
        const single = workloadManifest({ ...options({}), kind: "StatefulSet", namespace: "ns", replicas: 2 });
        assert.equal(single.spec.template.metadata.annotations, undefined);
        assert.deepEqual(single.spec.template.spec.containers.map((c: { name: string }) => c.name), ["hollow-kubelet", "hollow-proxy"]);
    });
});
