// The whole program under pulumi.runtime.setMocks, once per stack file in the repo.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { NEWEST_TESTED, TESTED_RANGE_TEXT } from "../../components/config/releases";
import { fixtures, isSecret, Registered, reveal, runStack, stackFiles } from "../harness/mockStack";

const runs = new Map<string, { resources: Registered[]; outputs: Record<string, unknown> }>();

describe("program", () => {
    before(async () => {
        for (const f of stackFiles) {
            const stack = f.slice("Pulumi.".length, -".yaml".length);
            runs.set(stack, await runStack(stack));
        }
    });

    it("finds the per-version stacks and the dev stack", () => {
        for (const f of ["Pulumi.dev.yaml", "Pulumi.lab.yaml", "Pulumi.v1-30.yaml", "Pulumi.v1-31.yaml"]) {
            assert.ok(stackFiles.includes(f), f);
        }
    });

    for (const f of stackFiles) {
        const stack = f.slice("Pulumi.".length, -".yaml".length);
        describe(`stack ${stack}`, () => {
            const get = () => runs.get(stack)!;
            const one = (type: string) => {
                const found = get().resources.filter((r) => r.type === type);
                assert.equal(found.length, 1, `${type}: ${found.length}`);
                return found[0];
            };

            it("creates the providers, namespaces, Secrets, target identities, reaper, workload and sync", () => {
                const types = get().resources.map((r) => r.type).sort();
                for (const t of ["pulumi:providers:kubernetes", "kubemark:index:HollowNodes", "kubernetes:core/v1:Namespace",
                    "kubernetes:core/v1:Secret", "pulumi-nodejs:dynamic/kubemark:NodeReaper", "kubernetes:apps/v1:StatefulSet",
                    "pulumi-nodejs:dynamic/kubemark:HollowNodeSync", "kubemark:index:TargetCredentials", "pulumi-nodejs:dynamic/kubemark:HollowCredentials"]) {
                    assert.ok(types.includes(t), `${t} missing from ${types.join(", ")}`);
                }
            });

            const all = (type: string) => get().resources.filter((r) => r.type === type);
            /** The main workload; `-last` holds the last pod when replicas is not a multiple of nodesPerPod. */
            const workloadOf = (role: "workload" | "last") => {
                const found = all("kubernetes:apps/v1:StatefulSet").filter((r) => r.name.endsWith(`-${role}`));
                assert.equal(found.length, 1, `${role}: ${found.length}`);
                return found[0];
            };

            it("puts no operator credential in the node cluster: the Secrets hold the pods' own certificates and tokens, all secret", () => {
                const secrets = all("kubernetes:core/v1:Secret");
                const shards = Math.ceil(Number(get().outputs.replicas) / 500);
                assert.equal(secrets.length, 1 + shards, "the kubeconfigs, and the certificate shards");
                for (const secret of secrets) {
                    assert.ok(isSecret(secret.inputs.stringData), secret.name);
                    assert.doesNotMatch(JSON.stringify(reveal(secret.inputs.stringData)), /super-secret-token/, secret.name);
                }
                const kubeconfigs = reveal(secrets.find((s) => s.name.endsWith("-kubeconfig"))!.inputs.stringData);
                assert.match(kubeconfigs["kubelet.kubeconfig"], /client-certificate: \/kubeconfig\/tls\.crt/);
                assert.match(kubeconfigs["kubeproxy.kubeconfig"], /token: TOKEN-hollow-proxy/);
                const certs = reveal(secrets.find((s) => s.name.endsWith("-certs-0"))!.inputs.stringData);
                assert.equal(certs[`hollow-node-${stack}-0.crt`], `CERT-hollow-node-${stack}-0`);
                for (const r of [...all("pulumi-nodejs:dynamic/kubemark:NodeReaper"), one("pulumi-nodejs:dynamic/kubemark:HollowNodeSync")]) {
                    const t = r.name;
                    assert.ok(isSecret(r.inputs.targetKubeconfig) && isSecret(r.inputs.nodeKubeconfig), t);
                }
                assert.ok(isSecret(one("pulumi-nodejs:dynamic/kubemark:HollowCredentials").inputs.targetKubeconfig));
                assert.ok(all("pulumi:providers:kubernetes").every((p) => isSecret(p.inputs.kubeconfig)));
                const workloads = JSON.stringify(all("kubernetes:apps/v1:StatefulSet").map((w) => w.inputs));
                assert.doesNotMatch(workloads, /super-secret-token|TOKEN-|CERT-/);
            });

            it("creates nothing in either cluster before the ownership guard, whose credentials are secret", () => {
                const guard = one("pulumi-nodejs:dynamic/kubemark:OwnershipGuard");
                for (const t of ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret", "kubernetes:core/v1:ServiceAccount",
                    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "pulumi-nodejs:dynamic/kubemark:NodeReaper"]) {
                    for (const r of all(t)) {
                        assert.ok(r.deps.includes(guard.urn), `${t} ${r.name} must wait for the guard`);
                    }
                }
                assert.ok(isSecret(guard.inputs.nodeKubeconfig) && isSecret(guard.inputs.targetKubeconfig));
                assert.deepEqual(reveal(guard.inputs.nodeObjects).map((r: { kind: string }) => r.kind), ["Namespace", "Secret", "Secret", "StatefulSet", "StatefulSet"]);
                assert.deepEqual(reveal(guard.inputs.targetObjects).map((r: { kind: string }) => r.kind), ["Namespace", "ServiceAccount", "ClusterRoleBinding"]);
                assert.equal(reveal(guard.inputs.nodeCount), get().outputs.replicas);
            });

            it("applies every object with one field manager, so a rerun after an interrupted create does not conflict", () => {
                for (const t of ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret", "kubernetes:apps/v1:StatefulSet",
                    "kubernetes:core/v1:ServiceAccount", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"]) {
                    for (const r of all(t)) {
                        const annotations = r.inputs.metadata.annotations;
                        assert.equal(annotations["pulumi.com/patchFieldManager"], "kubemark-pulumi", `${t} ${r.name}`);
                        assert.equal(annotations["pulumi.com/patchForce"], "true", t);
                    }
                }
            });

            it("makes both workloads depend on the stack's reaper and their part's, and the sync on both", () => {
                const reapers = all("pulumi-nodejs:dynamic/kubemark:NodeReaper");
                assert.deepEqual(reapers.map((r) => r.name), ["hollow-nodes-reaper", "hollow-nodes-part-reaper"]);
                const sync = one("pulumi-nodejs:dynamic/kubemark:HollowNodeSync");
                for (const workload of [workloadOf("workload"), workloadOf("last")]) {
                    for (const reaper of reapers) {
                        assert.ok(workload.deps.includes(reaper.urn), `${workload.deps} lacks ${reaper.urn}`);
                    }
                    assert.ok(sync.deps.includes(workload.urn));
                }
            });

            it("spreads replicas over pods of nodesPerPod, the rest in the last workload's one pod", () => {
                const perPod = Number(get().outputs.nodesPerPod);
                const replicas = Number(get().outputs.replicas);
                assert.equal(workloadOf("workload").inputs.spec.replicas, Math.floor(replicas / perPod));
                assert.equal(workloadOf("last").inputs.spec.replicas, replicas % perPod > 0 ? 1 : 0);
                assert.equal(get().outputs.pods, Math.ceil(replicas / perPod));
            });

            it("runs the stack's version with this stack's labels and the default taint", () => {
                const version = get().outputs.kubernetesVersion as string;
                const spec = workloadOf("workload").inputs.spec;
                const kubelet = spec.template.spec.containers.find((c: { name: string }) => /^hollow-kubelet(-0)?$/.test(c.name));
                const prebuilt = get().resources.every((r) => !r.type.startsWith("docker:"));
                if (prebuilt) {
                    assert.equal(kubelet.image, get().outputs.imageRef, "pods run the configured image");
                } else {
                    assert.equal(kubelet.image, `127.0.0.1:5000/kubemark@sha256:${"ab".repeat(32)}`, "pods run the pushed digest");
                    // The proxy guard only where the release needs it (v1.30 to v1.33), the fleet patches in every one.
                    const minor = Number(version.split(".")[1]);
                    assert.equal(one("docker:index/image:Image").inputs.imageName,
                        `127.0.0.1:5000/kubemark:${version}${minor >= 30 && minor <= 33 ? "-proxyfix" : ""}-capacity-podips-lifecycle`);
                }
                assert.ok(kubelet.args.includes(`--node-labels=hollow-node=true,kubemark-pulumi/pool=default,kubemark-pulumi/stack=kubemark.${stack}`), kubelet.args.join(" "));
                assert.ok(kubelet.args.includes("--register-with-taints=kubemark-pulumi/hollow-node=true:NoSchedule"));
                assert.ok(kubelet.args.includes("--use-host-image-service=false"));
                assert.equal(spec.podManagementPolicy, "Parallel");
                assert.equal(get().outputs.nodeSelector, `kubemark-pulumi/stack=kubemark.${stack}`);
                assert.equal(get().outputs.readyNodes, get().outputs.replicas);
            });
        });
    }

    it("builds the image in order: preflight, fetch, patch, build, then docker build and push", async () => {
        const { resources } = runs.get("v1-30")!;
        const byName = (n: string) => resources.find((r) => r.name === n)!;
        const chain = ["kubemark-preflight", "kubemark-fetch", "kubemark-patch", "kubemark-build", "kubemark-image"];
        for (let i = 1; i < chain.length; i++) {
            assert.ok(byName(chain[i]).deps.includes(byName(chain[i - 1]).urn), `${chain[i]} must depend on ${chain[i - 1]}`);
        }
        const fetch = byName("kubemark-fetch").inputs;
        assert.equal(fetch.create, "bash scripts/kubemark-image.sh fetch");
        assert.deepEqual(fetch.triggers.slice(0, 2), ["v1.30.4", "git"]);
        assert.equal(fetch.environment.KM_GIT_URL, `file://${fixtures().gitRemote}`);
        const patch = byName("kubemark-patch").inputs;
        assert.deepEqual(JSON.parse(patch.environment.KUBEMARK_PATCHES).map((p: { id: string }) => p.id), ["proxyfix", "capacity", "podips", "lifecycle"]);
        const build = byName("kubemark-build").inputs;
        assert.equal(build.environment.KM_BASE_IMAGE, "registry.k8s.io/build-image/go-runner:v2.3.1-go1.17.2-bullseye.0");
        assert.ok(build.triggers.includes(build.environment.KM_BASE_IMAGE), "a new base image rebuilds");
        const workload = resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")!;
        assert.ok(workload.inputs.spec.template.spec.containers[0].image.includes("@sha256:"));
    });

    it("skips the build for a prebuilt image, and patches cri-o's endpoint when it builds for cri-o", async () => {
        const prebuilt = await runStack("v1-31", { "kubemark:imageRegistry": undefined as unknown as string, "kubemark:image": "hwchiu/kubemark:v1.31.0-crio-dev" });
        assert.ok(!prebuilt.resources.some((r) => r.type.startsWith("command:") || r.type.startsWith("docker:")));
        assert.equal(prebuilt.outputs.imageRef, "hwchiu/kubemark:v1.31.0-crio-dev");
        const crio = await runStack("v1-31", { "kubemark:containerRuntime": "cri-o", "kubemark:imageService": "host", "kubemark:imageSource": "module" });
        const image = crio.resources.find((r) => r.type === "docker:index/image:Image")!;
        assert.equal(image.inputs.imageName, "127.0.0.1:5000/kubemark:v1.31.0-crio-proxyfix-capacity-podips-lifecycle");
        const spec = crio.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")!.inputs.spec.template.spec;
        const mount = spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === "cri-socket");
        assert.equal(mount.mountPath, "/run/crio/crio.sock", "the patched binary dials cri-o's own path");
    });

    it("stops before registering anything when the source has no such release, naming it and where it looked", async () => {
        await assert.rejects(runStack("v1-31", { "kubemark:kubernetesVersion": "v1.31.99" }), (e: Error) => {
            assert.match(e.message, /kubemark:kubernetesVersion = v1\.31\.99: v1\.31\.99 is not a tag of file:\/\/.*kubernetes\.git \(git ls-remote found no refs\/tags\/v1\.31\.99\)/);
            return true;
        });
        // A prebuilt image needs no source: the release is not looked up.
        const prebuilt = await runStack("v1-31", { "kubemark:kubernetesVersion": "v1.31.99", "kubemark:imageRegistry": undefined as unknown as string,
            "kubemark:image": "registry.example.com/kubemark:v1.31.99" });
        assert.equal(prebuilt.outputs.kubernetesVersion, "v1.31.99");
    });

    it("accepts a release newer than the tested ones with a warning naming the tested range, and none for a tested one", async () => {
        const warned: string[] = [];
        const warn = console.warn;
        console.warn = (...args: unknown[]) => warned.push(args.join(" "));
        try {
            const next = `v1.${NEWEST_TESTED.minor + 1}.0`;
            const newer = await runStack(`v1-${NEWEST_TESTED.minor}`, { "kubemark:kubernetesVersion": next, "kubemark:imageRegistry": undefined as unknown as string,
                "kubemark:image": `registry.example.com/kubemark:${next}` });
            assert.equal(newer.outputs.kubernetesVersion, next);
            const said = `kubernetesVersion ${next} is newer than the releases this program is tested on (${TESTED_RANGE_TEXT}, newest ${NEWEST_TESTED.text})`;
            assert.ok(warned.some((w) => w.includes(said)), warned.join("\n"));
            warned.length = 0;
            await runStack(`v1-${NEWEST_TESTED.minor}`);
            assert.ok(!warned.some((w) => /is newer than the releases/.test(w)), warned.join("\n"));
        } finally {
            console.warn = warn;
        }
    });

    it("with createNamespace false, creates no namespace and claims an existing one instead", async () => {
        const run = await runStack("dev", { "kubemark:namespace": "team-a", "kubemark:createNamespace": "false" });
        const namespaces = run.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name);
        assert.deepEqual(namespaces, ["team-a-identity"], "only the target's identity namespace");
        const guard = run.resources.find((r) => r.type === "pulumi-nodejs:dynamic/kubemark:OwnershipGuard")!;
        assert.equal(reveal(guard.inputs.existingNamespace), "team-a");
        assert.deepEqual(reveal(guard.inputs.nodeObjects).map((r: { kind: string }) => r.kind), ["Secret", "Secret", "StatefulSet", "StatefulSet"]);
        assert.equal(run.resources.find((r) => r.type === "kubernetes:core/v1:Secret")!.inputs.metadata.namespace, "team-a");
        assert.equal(run.outputs.namespace, "team-a");
    });

    it("with nodesPerPod 4 and 10 replicas: two full pods, a last pod of 2, a certificate per Node", async () => {
        const run = await runStack("dev", { "kubemark:nodesPerPod": "4", "kubemark:replicas": "10" });
        const workloads = run.resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet");
        const spec = (role: string) => workloads.find((w) => w.name.endsWith(`-${role}`))!.inputs.spec;
        assert.equal(spec("workload").replicas, 2);
        assert.equal(spec("last").replicas, 1);
        assert.deepEqual(spec("workload").template.metadata.annotations["kubemark-pulumi/hollow-nodes"], "4");
        assert.deepEqual(spec("last").template.metadata.annotations["kubemark-pulumi/hollow-nodes"], "2");
        assert.equal(spec("last").template.spec.containers.filter((c: { name: string }) => c.name.startsWith("hollow-kubelet-")).length, 2);
        assert.deepEqual([run.outputs.pods, run.outputs.nodesPerPod, run.outputs.replicas], [3, 4, 10]);
        const certs = reveal(run.resources.find((r) => r.name.endsWith("-certs-0"))!.inputs.stringData);
        assert.deepEqual(Object.keys(certs).filter((k) => k.endsWith(".crt")).sort(), [
            ...[0, 1].flatMap((p) => [0, 1, 2, 3].map((k) => `hollow-node-dev-${p}-${k}.crt`)), "hollow-node-dev-last-0-0.crt", "hollow-node-dev-last-0-1.crt",
        ].sort());
        const guard = run.resources.find((r) => r.type === "pulumi-nodejs:dynamic/kubemark:OwnershipGuard")!;
        assert.equal(reveal(guard.inputs.nodesPerPod), 4);
    });

    it("shares no Kubernetes name or Node selector between two stacks", () => {
        const owner = new Map<string, string>();
        for (const [stack, run] of runs) {
            const names = run.resources
                .filter((r) => r.type.startsWith("kubernetes:"))
                .map((r) => `${r.type} ${r.inputs.metadata?.namespace ?? ""}/${r.inputs.metadata?.name}`);
            names.push(`selector ${run.outputs.nodeSelector}`, `node-prefix ${run.outputs.workload}`);
            for (const n of names) {
                assert.ok(!owner.has(n), `${n} used by both ${owner.get(n)} and ${stack}`);
                owner.set(n, stack);
            }
        }
        assert.ok(owner.size >= runs.size * 5);
    });
});
