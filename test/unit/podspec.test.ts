// Pure pod spec and kubemark flag builders, table-driven, no mocks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSettings } from "../../components/config/read";
import { HollowPodOptions, kubeletFlags, podSpec, proxyFlags, workloadManifest } from "../../components/hollow/podspec";
import { KUBEMARK_IMAGE_ENDPOINT } from "../../components/config/defaults";

function options(config: Record<string, string> = {}): HollowPodOptions {
    const s = parseSettings({
        values: { "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "r:5000", ...config },
        secretKeys: new Set(), project: "kubemark", stack: "v1-31", env: { HOME: "/h" },
    });
    return {
        ...s, image: "r:5000/kubemark:v1.31.0", imageEndpoint: KUBEMARK_IMAGE_ENDPOINT,
        credentialSecrets: ["hollow-node-v1-31-kubeconfig", "hollow-node-v1-31-certs-0"],
        perNodeCertificates: s.workloadKind === "StatefulSet",
    };
}

describe("kubeletFlags", () => {
    it("builds upstream's flags in a fixed order, with this stack's labels and the default taint", () => {
        assert.deepEqual(kubeletFlags(options()), [
            "--morph=kubelet",
            "--name=$(NODE_NAME)",
            "--kubeconfig=/kubeconfig/kubelet.kubeconfig",
            "--node-labels=hollow-node=true,kubemark-pulumi/stack=kubemark.v1-31",
            "--register-with-taints=kubemark-pulumi/hollow-node=true:NoSchedule",
            "--max-pods=110",
            "--use-host-image-service=false",
            "--v=2",
        ]);
    });
    const cases: [string, Record<string, string>, string[], string[]][] = [
        ["sorted user labels", { "kubemark:nodeLabels": '["zone=b","app=a"]' },
            ["--node-labels=app=a,hollow-node=true,kubemark-pulumi/stack=kubemark.v1-31,zone=b"], []],
        ["no taints when the list is empty", { "kubemark:nodeTaints": "[]" }, [], ["--register-with-taints="]],
        ["taints without value, sorted", { "kubemark:nodeTaints": '["z:NoExecute","a=1:NoSchedule"]' },
            ["--register-with-taints=a=1:NoSchedule,z:NoExecute"], []],
        ["sorted extended resources", { "kubemark:extendedResources": '["example.com/z=2","example.com/a=8"]' },
            ["--extended-resources=example.com/a=8,example.com/z=2"], []],
        ["no extended resources flag when empty", {}, [], ["--extended-resources="]],
        ["the host image service", { "kubemark:imageService": "host" }, ["--use-host-image-service=true"], []],
        ["max pods", { "kubemark:maxPods": "250" }, ["--max-pods=250"], []],
        ["verbosity", { "kubemark:logVerbosity": "5" }, ["--v=5"], []],
    ];
    for (const [what, config, present, absentPrefixes] of cases) {
        it(what, () => {
            const flags = kubeletFlags(options(config));
            for (const f of present) {
                assert.ok(flags.includes(f), `${f} missing from ${flags.join(" ")}`);
            }
            for (const prefix of absentPrefixes) {
                assert.ok(!flags.some((f) => f.startsWith(prefix)), `${prefix} present in ${flags.join(" ")}`);
            }
        });
    }
});

describe("proxyFlags", () => {
    it("morphs into the proxy with its own kubeconfig", () => {
        assert.deepEqual(proxyFlags(options()), [
            "--morph=proxy", "--name=$(NODE_NAME)", "--kubeconfig=/kubeconfig/kubeproxy.kubeconfig", "--v=2",
        ]);
    });
});

describe("podSpec", () => {
    const socketMount = (spec: ReturnType<typeof podSpec>) =>
        spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === "cri-socket");
    const socketVolume = (spec: ReturnType<typeof podSpec>) =>
        spec.volumes.find((v: { name: string }) => v.name === "cri-socket");
    const cases: [string, Record<string, string>, string | undefined][] = [
        ["fake image service: no socket", {}, undefined],
        ["containerd, host image service", { "kubemark:imageService": "host" }, "/run/containerd/containerd.sock"],
        ["cri-o, host image service", { "kubemark:imageService": "host", "kubemark:containerRuntime": "cri-o" }, "/run/crio/crio.sock"],
        ["custom socket", { "kubemark:imageService": "host", "kubemark:criSocket": "/var/run/crio.sock" }, "/var/run/crio.sock"],
    ];
    for (const [what, config, hostPath] of cases) {
        it(`CRI socket: ${what}`, () => {
            const spec = podSpec(options(config));
            if (hostPath === undefined) {
                assert.equal(socketMount(spec), undefined);
                assert.equal(socketVolume(spec), undefined);
            } else {
                assert.deepEqual(socketVolume(spec).hostPath, { path: hostPath, type: "Socket" });
                // Unpatched kubemark dials containerd's path whatever the runtime: mount the host socket there.
                assert.equal(socketMount(spec).mountPath, KUBEMARK_IMAGE_ENDPOINT);
            }
        });
    }
    it("runs the inotify init container, tolerates unreachable, spreads, and keeps the node cluster's token out", () => {
        const spec = podSpec(options());
        assert.deepEqual(spec.initContainers[0].command, ["sh", "-c", "read current < /proc/sys/fs/inotify/max_user_instances; " +
            '[ "$current" -ge 8192 ] || sysctl -w fs.inotify.max_user_instances=8192']);
        assert.equal(spec.initContainers[0].image, "busybox:1.36");
        assert.deepEqual(spec.tolerations, [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 900 }]);
        assert.equal(spec.topologySpreadConstraints[0].topologyKey, "kubernetes.io/hostname");
        assert.equal(spec.automountServiceAccountToken, false);
        assert.deepEqual(spec.containers.map((c: { name: string }) => c.name), ["hollow-kubelet", "hollow-proxy"]);
        assert.deepEqual(spec.containers[0].env[0].valueFrom, { fieldRef: { fieldPath: "metadata.name" } });
        assert.deepEqual(spec.containers[0].resources, { requests: { cpu: "20m", memory: "40Mi" } });
        assert.deepEqual(spec.containers[1].resources, { requests: { cpu: "5m", memory: "33268Ki" } });
        assert.deepEqual(spec.volumes[0], { name: "credentials", projected: { defaultMode: 0o400, sources: [
            { secret: { name: "hollow-node-v1-31-kubeconfig" } }, { secret: { name: "hollow-node-v1-31-certs-0" } }] } });
    });
    const mountCases: [string, Record<string, string>, string[], string[]][] = [
        ["StatefulSet: the kubelet mounts its kubeconfig and, by its pod name, its own certificate and key; the proxy only its kubeconfig", {},
            ["/kubeconfig/kubelet.kubeconfig <- kubelet.kubeconfig", "/kubeconfig/tls.crt <- $(NODE_NAME).crt", "/kubeconfig/tls.key <- $(NODE_NAME).key", "/tmp"],
            ["/kubeconfig/kubeproxy.kubeconfig <- kubeproxy.kubeconfig", "/tmp"]],
        ["Deployment: no per-node certificate to mount", { "kubemark:workloadKind": "Deployment" },
            ["/kubeconfig/kubelet.kubeconfig <- kubelet.kubeconfig", "/tmp"], ["/kubeconfig/kubeproxy.kubeconfig <- kubeproxy.kubeconfig", "/tmp"]],
    ];
    for (const [what, config, kubelet, proxy] of mountCases) {
        it(what, () => {
            const spec = podSpec(options(config));
            const show = (c: { volumeMounts: { mountPath: string; subPath?: string; subPathExpr?: string }[] }) =>
                c.volumeMounts.map((m) => (m.subPath ?? m.subPathExpr ? `${m.mountPath} <- ${m.subPath ?? m.subPathExpr}` : m.mountPath));
            assert.deepEqual(show(spec.containers[0]), kubelet);
            assert.deepEqual(show(spec.containers[1]), proxy);
            assert.ok(spec.containers[0].volumeMounts.every((m: { name: string; subPath?: string; subPathExpr?: string }) => m.name !== "credentials" || m.subPath || m.subPathExpr),
                "never the whole credentials volume");
        });
    }
    const privilegeCases: [string, Record<string, string>, boolean][] = [
        ["privileged by default, as upstream: init container and hollow kubelet", {}, true],
        ["privileged false: no init container, nothing privileged", { "kubemark:privileged": "false" }, false],
    ];
    for (const [what, config, privileged] of privilegeCases) {
        it(what, () => {
            const spec = podSpec(options(config));
            const all = [...(spec.initContainers ?? []), ...spec.containers];
            assert.equal((spec.initContainers ?? []).length, privileged ? 1 : 0);
            assert.deepEqual(all.filter((c: { securityContext?: { privileged?: boolean } }) => c.securityContext?.privileged).map((c: { name: string }) => c.name),
                privileged ? ["init-inotify-limit", "hollow-kubelet"] : []);
            assert.ok(!JSON.stringify(spec).includes('"privileged":false'), "an unset field, not an explicit false");
        });
    }
    it("drops the hollow proxy when disabled", () => {
        const spec = podSpec(options({ "kubemark:hollowProxy": "false" }));
        assert.deepEqual(spec.containers.map((c: { name: string }) => c.name), ["hollow-kubelet"]);
    });
});

describe("workloadManifest", () => {
    const cases: [string, string, string, (spec: Record<string, unknown>) => void][] = [
        ["StatefulSet", "apps/v1", "StatefulSet", (spec) => {
            assert.equal(spec.podManagementPolicy, "Parallel");
            assert.deepEqual(spec.selector, { matchLabels: { "app.kubernetes.io/name": "hollow-node", "app.kubernetes.io/instance": "hollow-node-v1-31", "kubemark-pulumi/stack": "kubemark.v1-31" } });
        }],
        ["Deployment", "apps/v1", "Deployment", (spec) => assert.ok("matchLabels" in (spec.selector as object))],
        ["ReplicationController", "v1", "ReplicationController", (spec) => assert.equal((spec.selector as Record<string, string>)["app.kubernetes.io/instance"], "hollow-node-v1-31")],
    ];
    for (const [kind, apiVersion, expectedKind, check] of cases) {
        it(kind, () => {
            const m = workloadManifest({ ...options({ "kubemark:workloadKind": kind }), kind: kind as "StatefulSet", namespace: "ns", replicas: 7 });
            assert.equal(m.apiVersion, apiVersion);
            assert.equal(m.kind, expectedKind);
            assert.equal(m.spec.replicas, 7);
            assert.equal(m.metadata.annotations["pulumi.com/skipAwait"], "true");
            check(m.spec);
        });
    }
});
