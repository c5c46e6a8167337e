// measure/cleanup: what an interrupted run left is removed, a live run's namespaces and PriorityClass never are.
import assert from "node:assert/strict";
import * as os from "node:os";
import { describe, it } from "node:test";
import { HEARTBEAT_LEASE, removeLeftovers } from "../../../measure/cleanup";
import type { Kube } from "../../../measure/kube";

interface Obj {
    metadata: { name: string; labels?: Record<string, string> };
    spec?: { holderIdentity?: string; renewTime?: string };
}

/** An API server holding namespaces, Leases and PriorityClasses in memory; a deleted namespace is gone at once. */
function fakeApi(namespaces: Obj[], leases: Record<string, Obj>, classes: Obj[]): { api: Kube; deleted: string[] } {
    const deleted: string[] = [];
    const json = async <T>(method: string, path: string): Promise<T> => {
        const bare = path.split("?")[0];
        if (method === "DELETE") {
            deleted.push(bare);
            const ns = bare.match(/^\/api\/v1\/namespaces\/([^/]+)$/)?.[1];
            if (ns) {
                namespaces.splice(
                    namespaces.findIndex((n) => n.metadata.name === ns),
                    1,
                );
            }
            return {} as T;
        }
        if (bare === "/api/v1/namespaces") {
            return { items: namespaces } as T;
        }
        if (bare === "/apis/scheduling.k8s.io/v1/priorityclasses") {
            return { items: classes } as T;
        }
        const lease = bare.match(/^\/apis\/coordination.k8s.io\/v1\/namespaces\/([^/]+)\/leases\//)?.[1];
        const ns = bare.match(/^\/api\/v1\/namespaces\/([^/]+)$/)?.[1];
        const found = lease ? leases[lease] : ns ? namespaces.find((n) => n.metadata.name === ns) : undefined;
        if (!found) {
            throw Object.assign(new Error("not found"), { code: 404 });
        }
        return found as T;
    };
    const api = {
        server: "https://fake",
        json,
        maybe: async <T>(method: string, path: string) =>
            json<T>(method, path).catch((e) => {
                if ((e as { code?: number }).code === 404) {
                    return undefined;
                }
                throw e;
            }),
        text: async () => ({ status: 404, body: "" }),
        kubeConfig: () => {
            throw new Error("no watch here");
        },
    } as unknown as Kube;
    return { api, deleted };
}

const labels = (run: string) => ({
    "kubemark-pulumi/stack": "kubemark.lab",
    "kubemark-pulumi/measure": "true",
    "kubemark-pulumi/measure-run": run,
});
const ns = (name: string, run: string): Obj => ({ metadata: { name, labels: labels(run) } });
const pc = (name: string, run: string): Obj => ({ metadata: { name, labels: labels(run) } });
// A holder on this machine is asked directly: this test's own parent is alive; pid 2^22+1 is not.
const liveLease: Obj = {
    metadata: { name: HEARTBEAT_LEASE },
    spec: { holderIdentity: `${os.hostname()}/${process.ppid}`, renewTime: new Date().toISOString() },
};
const deadLease: Obj = {
    metadata: { name: HEARTBEAT_LEASE },
    spec: { holderIdentity: `${os.hostname()}/4194305`, renewTime: "2026-01-01T00:00:00Z" },
};

describe("leftovers of interrupted runs", () => {
    it("a live load's namespaces are all left alone (it beats in its first only), a dead run's go with its PriorityClass", async () => {
        const { api, deleted } = fakeApi(
            [ns("m-lab-1", "live"), ns("m-lab-2", "live"), ns("m-lab-old-1", "dead"), ns("m-lab-old-2", "dead")],
            { "m-lab-1": liveLease, "m-lab-old-1": deadLease },
            [pc("kubemark-measure-live", "live"), pc("kubemark-measure-dead", "dead")],
        );
        const said: string[] = [];
        const removed = await removeLeftovers(api, "kubemark.lab", 5000, (m) => said.push(m), "skip");
        assert.deepEqual(removed, ["m-lab-old-1", "m-lab-old-2", "PriorityClass kubemark-measure-dead"]);
        assert.deepEqual(deleted.sort(), [
            "/api/v1/namespaces/m-lab-old-1",
            "/api/v1/namespaces/m-lab-old-2",
            "/apis/scheduling.k8s.io/v1/priorityclasses/kubemark-measure-dead",
        ]);
        assert.equal(said.filter((m) => /is using namespace m-lab-[12]/.test(m)).length, 2);
    });
    it("a second load beside a live one is refused, naming the live run", async () => {
        const { api, deleted } = fakeApi([ns("m-lab-1", "live"), ns("m-lab-2", "live")], { "m-lab-1": liveLease }, []);
        await assert.rejects(
            removeLeftovers(api, "kubemark.lab", 5000, () => undefined, "refuse"),
            /another measure run \(.+\) is using namespace m-lab-1/,
        );
        assert.deepEqual(deleted, []);
    });
});
