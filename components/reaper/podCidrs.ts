// A podCIDR for each of the stack's Nodes that has none, from the range the stack sets: the target's controller
// manager does this when it runs with --allocate-node-cidrs, and the podips patch needs one to hand out pod IPs.
import { Clock, Log, patientLook, someNames } from "../kube/async";
import { ClusterApi, NodeCidr } from "../kube/clusterApi";
import { Block, ipv4Text, parseCidr } from "../config/validate";

const overlaps = (a: Block, b: Block) => a.start < b.start + b.size && b.start < a.start + a.size;

/**
 * Blocks of `/mask` inside `range` for each Node named in `wanting`, in name order, skipping every block that overlaps
 * a CIDR already in use (any Node's of the cluster). Fewer than asked when the range runs out.
 */
export function allocateCidrs(range: string, mask: number, used: readonly string[], wanting: readonly string[]): Map<string, string> {
    const r = parseCidr(range);
    const taken = used.map(parseCidr).filter((b): b is Block => b !== undefined);
    const out = new Map<string, string>();
    if (r === undefined || mask < 32 - Math.log2(r.size)) {
        return out;
    }
    const size = 2 ** (32 - mask);
    const names = [...wanting].sort();
    for (let start = r.start; start < r.start + r.size && out.size < names.length; start += size) {
        const block = { start, size };
        if (!taken.some((t) => overlaps(t, block))) {
            out.set(names[out.size], `${ipv4Text(start)}/${mask}`);
        }
    }
    return out;
}

export interface PodCidrRequest {
    /** This stack's Nodes. */
    readonly selector: string;
    readonly range: string;
    readonly mask: number;
    readonly deadline: number;
}

/** Gives the stack's Nodes without a podCIDR a block of the range; the names it set. Never changes another's Node. */
export async function assignPodCidrs(target: ClusterApi, req: PodCidrRequest, clock: Clock, log: Log): Promise<string[]> {
    const look = patientLook<NodeCidr[]>("podCIDRs", req.deadline, clock, log);
    const ours = await look(() => target.listNodeCidrs(req.selector));
    const wanting = ours.filter((n) => n.podCIDRs.length === 0).map((n) => n.name);
    if (wanting.length === 0) {
        return [];
    }
    // Every Node of the cluster: a block another's Node holds is not handed out again.
    const used = (await look(() => target.listNodeCidrs(""))).flatMap((n) => n.podCIDRs);
    const blocks = allocateCidrs(req.range, req.mask, used, wanting);
    const set: string[] = [];
    for (const [name, cidr] of blocks) {
        if ((await target.setNodePodCidr(name, cidr)) === "set") {
            set.push(name);
        }
    }
    if (set.length > 0) {
        log(`gave ${set.length} hollow Node(s) a podCIDR of ${req.range}: ${someNames(set)}`);
    }
    if (blocks.size < wanting.length) {
        log(`${req.range} has no free /${req.mask} left for ${wanting.length - blocks.size} hollow Node(s): their pods keep kubemark's one fake IP`);
    }
    return set;
}
