// parseSettings: defaults, and every bad value refused with the key, the value and what is accepted.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../components/config/readers";
import { parseSettings } from "../../components/config/read";
import { DEFAULT_CREDENTIAL_LIFETIME_HOURS, DEFAULT_NODE_TAINTS, DEFAULT_REPLICAS } from "../../components/config/defaults";
import { RawConfig } from "../../components/config/readers";
import { Settings, stackLabelValue, stackSlug } from "../../components/config/settings";

const BASE = { "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "127.0.0.1:5000" };

function raw(values: Record<string, string>, opts: Partial<RawConfig> = {}): RawConfig {
    return {
        values: { ...BASE, ...values },
        secretKeys: new Set(["kubemark:targetKubeconfigContent"]),
        project: "kubemark", stack: "v1-31", env: { HOME: "/home/u" }, ...opts,
    };
}

function problems(values: Record<string, string>, opts: Partial<RawConfig> = {}): string[] {
    try {
        parseSettings(raw(values, opts));
    } catch (e) {
        assert.ok(e instanceof ConfigError);
        return [...e.problems];
    }
    return [];
}

describe("parseSettings defaults", () => {
    const s: Settings = parseSettings(raw({}));
    it("applies the named defaults", () => {
        assert.equal(s.replicas, DEFAULT_REPLICAS);
        assert.equal(s.namespace, "kubemark-v1-31");
        assert.equal(s.workloadName, "hollow-node-v1-31");
        assert.equal(s.workloadKind, "StatefulSet");
        assert.equal(s.imageService, "fake");
        assert.equal(s.containerRuntime, "containerd");
        assert.equal(s.criSocket, "/run/containerd/containerd.sock");
        assert.equal(s.hollowProxy, true);
        assert.equal(s.createNamespace, true);
        assert.equal(s.maxPods, 110);
        assert.deepEqual(s.nodeTaints.map((t) => `${t.key}=${t.value}:${t.effect}`), DEFAULT_NODE_TAINTS);
        assert.deepEqual(s.kubeletResources, { cpu: "20m", memory: "40Mi" });
        assert.deepEqual(s.proxyResources, { cpu: "5m", memory: `${32 * 1024 + 50 * 10}Ki` });
        assert.equal(s.nodeCluster.kubeconfigPath, "/home/u/.kube/config");
        assert.equal(s.targetCluster.sameAsNodeCluster, true);
        assert.equal(s.stackLabelValue, "kubemark.v1-31");
        assert.deepEqual(s.image, { kind: "registry", registry: "127.0.0.1:5000", name: "kubemark" });
        assert.equal(s.credentialLifetimeHours, DEFAULT_CREDENTIAL_LIFETIME_HOURS);
        assert.equal(s.identityNamespace, "kubemark-v1-31-identity");
    });
    it("keeps the target identity namespace a DNS label when the namespace is long", () => {
        const long = parseSettings(raw({ "kubemark:namespace": "n".repeat(60) }));
        assert.ok(long.identityNamespace.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(long.identityNamespace), long.identityNamespace);
    });
    it("is frozen", () => {
        assert.ok(Object.isFrozen(s) && Object.isFrozen(s.nodeTaints) && Object.isFrozen(s.kubeletResources));
    });
    it("keeps 0 replicas (?? not ||) and sizes the proxy by replicas", () => {
        const z = parseSettings(raw({ "kubemark:replicas": "0" }));
        assert.equal(z.replicas, 0);
        const big = parseSettings(raw({ "kubemark:replicas": "2000" }));
        assert.deepEqual(big.proxyResources, { cpu: "50m", memory: `${32 * 1024 + 50 * 2000}Ki` });
    });
    it("accepts kubernetes.io labels: the hollow kubelet skips the kubelet's own label check", () => {
        const s2 = parseSettings(raw({ "kubemark:nodeLabels": '["node-role.kubernetes.io/worker="]' }));
        assert.deepEqual(s2.nodeLabels, [["node-role.kubernetes.io/worker", ""]]);
    });
    it("takes an empty taint list as no taints", () => {
        assert.deepEqual(parseSettings(raw({ "kubemark:nodeTaints": "[]" })).nodeTaints, []);
    });
    it("sorts labels, taints and extended resources", () => {
        const s2 = parseSettings(raw({
            "kubemark:nodeLabels": JSON.stringify(["zone=b", "example.com/tier=gold", "app=x"]),
            "kubemark:nodeTaints": JSON.stringify(["z=1:NoSchedule", "a:NoExecute"]),
            "kubemark:extendedResources": JSON.stringify(["example.com/z=1", "example.com/a=2"]),
        }));
        assert.deepEqual(s2.nodeLabels.map(([k]) => k), ["app", "example.com/tier", "zone"]);
        assert.deepEqual(s2.nodeTaints.map((t) => t.key), ["a", "z"]);
        assert.deepEqual(s2.extendedResources.map(([k]) => k), ["example.com/a", "example.com/z"]);
    });
    it("resolves separate clusters, ~ paths, KUBECONFIG and prebuilt images", () => {
        const s3 = parseSettings(raw({
            "kubemark:targetKubeconfig": "~/target.yaml", "kubemark:targetContext": "t",
            "kubemark:imageRegistry": undefined as unknown as string, "kubemark:image": "hwchiu/kubemark:v1.31.0-crio-dev",
        }, { env: { HOME: "/h", KUBECONFIG: "/k1:/k2" } }));
        assert.equal(s3.targetCluster.kubeconfigPath, "/h/target.yaml");
        assert.equal(s3.targetCluster.sameAsNodeCluster, false);
        assert.equal(s3.nodeCluster.kubeconfigPath, "/k1");
        assert.deepEqual(s3.image, { kind: "prebuilt", reference: "hwchiu/kubemark:v1.31.0-crio-dev" });
    });
    it("reads nodesPerPod, one by default", () => {
        assert.equal(s.nodesPerPod, 1);
        assert.equal(parseSettings(raw({ "kubemark:nodesPerPod": "5" })).nodesPerPod, 5);
    });
    it("picks the cri-o socket for cri-o", () => {
        assert.equal(parseSettings(raw({ "kubemark:containerRuntime": "cri-o" })).criSocket, "/run/crio/crio.sock");
    });
    it("makes stack names safe and bounded", () => {
        assert.equal(stackSlug("Team_A.v1.31"), "team-a-v1-31");
        assert.ok(stackSlug("x".repeat(80)).length <= 30);
        assert.notEqual(stackSlug("a".repeat(40) + "1"), stackSlug("a".repeat(40) + "2"));
        assert.ok(stackLabelValue("p".repeat(40), "s".repeat(40)).length <= 63);
    });
});

describe("parseSettings refuses bad values", () => {
    // [config, expected fragment naming key, value and what is accepted]
    const cases: [Record<string, string>, RegExp][] = [
        [{ "kubemark:kubernetesVersion": "1.31.0" }, /kubemark:kubernetesVersion = "1\.31\.0": must be vMAJOR\.MINOR\.PATCH, v1\.29\.0 or newer/],
        [{ "kubemark:kubernetesVersion": "v1.28.9" }, /kubemark:kubernetesVersion = "v1\.28\.9": .*v1\.29\.0 or newer/],
        [{ "kubemark:kubernetesVersion": "v2.0.0" }, /kubemark:kubernetesVersion = "v2\.0\.0"/],
        [{ "kubemark:kubernetesVersion": "v1.31.0-rc.1" }, /kubemark:kubernetesVersion = "v1\.31\.0-rc\.1"/],
        [{ "kubemark:replicas": "-1" }, /kubemark:replicas = "-1": must be a whole number from 0 to 10000/],
        [{ "kubemark:replicas": "2.5" }, /kubemark:replicas = "2\.5": must be a whole number/],
        [{ "kubemark:replicas": "ten" }, /kubemark:replicas = "ten"/],
        [{ "kubemark:replicas": "10001" }, /kubemark:replicas = "10001"/],
        [{ "kubemark:nodesPerPod": "0" }, /kubemark:nodesPerPod = "0": must be a whole number from 1 to 50/],
        [{ "kubemark:nodesPerPod": "51" }, /kubemark:nodesPerPod = "51": must be a whole number from 1 to 50/],
        [{ "kubemark:nodesPerPod": "2.5" }, /kubemark:nodesPerPod = "2\.5": must be a whole number from 1 to 50/],
        [{ "kubemark:nodesPerPod": "x" }, /kubemark:nodesPerPod = "x": must be a whole number from 1 to 50/],
        [{ "kubemark:namespace": "Kube_Mark" }, /kubemark:namespace = "Kube_Mark": must be a DNS-1123 label/],
        [{ "kubemark:image": "hwchiu/kubemark:v1" }, /kubemark:image and kubemark:imageRegistry are both set/],
        [{ "kubemark:image": "Not A Ref", "kubemark:imageRegistry": undefined as unknown as string }, /kubemark:image = "Not A Ref": must be an image reference/],
        [{ "kubemark:imageRegistry": "http://reg" }, /kubemark:imageRegistry = "http:\/\/reg": must be a registry host/],
        [{ "kubemark:imageName": "Kube Mark" }, /kubemark:imageName = "Kube Mark": must be a lowercase repository name/],
        [{ "kubemark:initImage": "busy box" }, /kubemark:initImage = "busy box"/],
        [{ "kubemark:containerRuntime": "docker" }, /kubemark:containerRuntime = "docker": must be one of containerd, cri-o/],
        [{ "kubemark:imageService": "real" }, /kubemark:imageService = "real": must be one of fake, host/],
        [{ "kubemark:criSocket": "run/crio.sock" }, /kubemark:criSocket = "run\/crio\.sock": must be an absolute host path/],
        [{ "kubemark:hollowProxy": "yes" }, /kubemark:hollowProxy = "yes": must be true or false/],
        [{ "kubemark:privileged": "1" }, /kubemark:privileged = "1": must be true or false/],
        [{ "kubemark:createNamespace": "no" }, /kubemark:createNamespace = "no": must be true or false/],
        [{ "kubemark:nodeLabels": "a=b" }, /kubemark:nodeLabels = "a=b": must be a list of strings/],
        [{ "kubemark:nodeLabels": '["nolabel"]' }, /kubemark:nodeLabels = "nolabel": must be key=value/],
        [{ "kubemark:nodeLabels": '["bad key=x"]' }, /kubemark:nodeLabels = "bad key=x": name "bad key"/],
        [{ "kubemark:nodeLabels": '["a=bad value"]' }, /kubemark:nodeLabels = "a=bad value": a label value must be/],
        [{ "kubemark:nodeLabels": '["kubemark-pulumi/stack=x"]' }, /is set by this program/],
        [{ "kubemark:nodeLabels": '["a=1","a=2"]' }, /label a is given twice/],
        [{ "kubemark:nodeTaints": '["a=b"]' }, /kubemark:nodeTaints = "a=b": must be key\[=value\]:Effect/],
        [{ "kubemark:nodeTaints": '["a=b:Never"]' }, /kubemark:nodeTaints = "a=b:Never": effect must be one of NoSchedule, PreferNoSchedule, NoExecute/],
        [{ "kubemark:maxPods": "0" }, /kubemark:maxPods = "0": must be a whole number from 1/],
        [{ "kubemark:extendedResources": '["gpu=1"]' }, /kubemark:extendedResources = "gpu=1": the name needs a domain prefix/],
        [{ "kubemark:extendedResources": '["example.com/gpu=1.5"]' }, /kubemark:extendedResources = "example\.com\/gpu=1\.5": must be name=count/],
        [{ "kubemark:extendedResources": '["kubernetes.io/gpu=1"]' }, /reserved/],
        [{ "kubemark:kubeletCpu": "lots" }, /kubemark:kubeletCpu = "lots": must be a Kubernetes quantity/],
        [{ "kubemark:kubeletMemory": "100MB" }, /kubemark:kubeletMemory = "100MB"/],
        [{ "kubemark:proxyCpu": "-1" }, /kubemark:proxyCpu = "-1"/],
        [{ "kubemark:proxyMemory": "1 Gi" }, /kubemark:proxyMemory = "1 Gi"/],
        [{ "kubemark:workloadKind": "DaemonSet" }, /kubemark:workloadKind = "DaemonSet": must be one of StatefulSet, Deployment, ReplicationController/],
        [{ "kubemark:readyTimeoutSeconds": "-5" }, /kubemark:readyTimeoutSeconds = "-5"/],
        [{ "kubemark:reaperTimeoutSeconds": "1" }, /kubemark:reaperTimeoutSeconds = "1": must be a whole number from 5 to 3600/],
        [{ "kubemark:logVerbosity": "11" }, /kubemark:logVerbosity = "11"/],
        [{ "kubemark:credentialLifetimeHours": "0" }, /kubemark:credentialLifetimeHours = "0": must be a whole number from 1 to 8760/],
        [{ "kubemark:credentialLifetimeHours": "a week" }, /kubemark:credentialLifetimeHours = "a week": must be a whole number from 1 to 8760/],
        [{ "kubemark:patchCrio": "yes" }, /kubemark:patchCrio = "yes": must be one of auto, true, false/],
        [{ "kubemark:imageSource": "tarball" }, /kubemark:imageSource = "tarball": must be one of git, module/],
        [{ "kubemark:gitRepository": "github.com/kubernetes/kubernetes" }, /kubemark:gitRepository = "github\.com\/kubernetes\/kubernetes": must be a git URL/],
        [{ "kubemark:sourceCache": "cache" }, /kubemark:sourceCache = "cache": must be an absolute path/],
        [{ "kubemark:baseImage": "Go Runner" }, /kubemark:baseImage = "Go Runner": must be an image reference/],
        [{ "kubemark:registryUsername": "u" }, /kubemark:registryUsername and kubemark:registryPassword go together/],
        [{ "kubemark:replica": "3" }, /kubemark:replica: unknown key; did you mean kubemark:replicas\?/],
        [{ "kubemark:targetKubeconfig": "/a", "kubemark:targetKubeconfigContent": "apiVersion: v1" }, /are both set/],
    ];
    for (const [values, expected] of cases) {
        it(`${JSON.stringify(values)}`, () => {
            const found = problems(values);
            assert.ok(found.some((p) => expected.test(p)), `expected ${expected} in:\n${found.join("\n")}`);
        });
    }

    it("requires a version and an image source, and reports all problems at once", () => {
        const found = problems({ "kubemark:kubernetesVersion": undefined, "kubemark:imageRegistry": undefined, "kubemark:replicas": "-1" } as unknown as Record<string, string>);
        assert.equal(found.length, 3, found.join("\n"));
        assert.match(found.join("\n"), /kubemark:kubernetesVersion is required/);
        assert.match(found.join("\n"), /kubemark:image or kubemark:imageRegistry is required/);
    });

    it("refuses target credentials stored in plain text, without printing them", () => {
        const found = problems({ "kubemark:targetKubeconfigContent": "token: s3cr3t" }, { secretKeys: new Set() });
        assert.match(found.join("\n"), /kubemark:targetKubeconfigContent: holds credentials and must be stored encrypted/);
        assert.doesNotMatch(found.join("\n"), /s3cr3t/);
    });

    it("takes an empty value, Pulumi.yaml's default for optional keys, as unset", () => {
        const s = parseSettings(raw({ "kubemark:namespace": "", "kubemark:targetKubeconfigContent": "", "kubemark:proxyCpu": "" }, { secretKeys: new Set() }));
        assert.equal(s.namespace, "kubemark-v1-31");
        assert.equal(s.targetCluster.sameAsNodeCluster, true);
        assert.equal(s.proxyResources.cpu, "5m");
    });

    it("never echoes a secret value in a problem", () => {
        const found = problems({ "kubemark:registryPassword": "hunter2", "kubemark:registryUsername": "u" }, { secretKeys: new Set() });
        assert.match(found.join("\n"), /kubemark:registryPassword: holds credentials/);
        assert.doesNotMatch(found.join("\n"), /hunter2/);
    });

    it("defaults patchCrio to on only for cri-o with a built image", () => {
        assert.equal(parseSettings(raw({ "kubemark:containerRuntime": "cri-o" })).imageBuild.patchCrio, true);
        assert.equal(parseSettings(raw({})).imageBuild.patchCrio, false);
        assert.equal(parseSettings(raw({ "kubemark:containerRuntime": "cri-o", "kubemark:imageRegistry": "", "kubemark:image": "x/kubemark:v1" })).imageBuild.patchCrio, false);
        assert.equal(parseSettings(raw({ "kubemark:patchCrio": "true" })).imageBuild.patchCrio, true);
    });
});
