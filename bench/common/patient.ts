// The density bench's own looks at the lab's API servers, made to ride out the load the bench itself makes: 300
// hollow kubelets starting or stopping on 2 cores keep the API servers from answering in time.
import { REQUEST_MS } from "../../components/kube/dynamic";

/** Answers that say "not now" rather than "no": an overloaded or restarting API server, or etcd behind it. */
const BUSY_STATUS = new Set([429, 500, 502, 503, 504]);
/** Connection errors (node-fetch, Node's sockets) of a server that is slow, restarting or briefly gone. */
const CONNECTION_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const TRANSIENT_TEXT = /allotted timeout|time allotted|timed out|socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|etcdserver: (request timed out|leader changed)/i;

/**
 * Whether a failed request is worth another try: an HTTP answer of 429 or 5xx (a 504 "request did not complete
 * within the allotted timeout" above all), a connection error, or no answer within REQUEST_MS.
 */
export function isTransient(e: unknown): boolean {
    const x = e as { code?: unknown; cause?: { code?: unknown }; message?: unknown; noAnswer?: boolean } | undefined;
    if (x?.noAnswer) {
        return true;
    }
    if (typeof x?.code === "number") {
        return BUSY_STATUS.has(x.code);
    }
    const code = typeof x?.code === "string" ? x.code : typeof x?.cause?.code === "string" ? x.cause.code : "";
    return CONNECTION_CODES.has(code) || TRANSIENT_TEXT.test(String(x?.message ?? ""));
}

/** The first line of an error, for a log line (client errors carry the whole response). */
export const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0].slice(0, 200);

function withinRequestBound<T>(what: string, p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer within ${REQUEST_MS / 1000}s`), { noAnswer: true })), REQUEST_MS);
    });
    return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

export interface Patience {
    /** Tries in all, the first included. */
    readonly tries: number;
    /** Wait before the second try; doubled before each later one. */
    readonly firstWaitMs: number;
}
/** 4 tries, waiting 2, 4 and 8 s: like the program's providers, which forgive 3 missed looks 2 s apart. */
export const PATIENCE: Patience = { tries: 4, firstWaitMs: 2000 };

/**
 * Runs one API call, bounded by REQUEST_MS, and again after a growing wait while it fails for a transient reason;
 * any other failure, or the last try's, is thrown. `retried` tells the call it is a retry (a create that timed out
 * may have gone through).
 */
export async function patient<T>(what: string, call: (retried: boolean) => Promise<T>, log: (m: string) => void,
    patience: Patience = PATIENCE): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await withinRequestBound(what, call(attempt > 1));
        } catch (e) {
            if (!isTransient(e) || attempt >= patience.tries) {
                throw e;
            }
            const waitMs = patience.firstWaitMs * 2 ** (attempt - 1);
            log(`${what}: ${firstLine(e)}; trying again in ${waitMs / 1000}s (${attempt} of ${patience.tries - 1} misses forgiven)`);
            await new Promise((r) => setTimeout(r, waitMs));
        }
    }
}
