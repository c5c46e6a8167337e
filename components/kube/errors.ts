// The two ways a provider's call ends without an answer: the API server gave none, or the user cancelled.

/** A call that got no HTTP answer at all: refused, timed out, DNS, TLS. Duck-typed, as it crosses serialization. */
export interface UnreachableError extends Error {
    readonly unreachable: true;
    readonly server: string;
    /** No answer within the request's bound: a server too busy to answer, not one that is down (refused, DNS). */
    readonly slow: boolean;
}

export function unreachableError(server: string, cause: string, slow = false): UnreachableError {
    return Object.assign(new Error(`no answer from ${server}: ${cause}`), { unreachable: true as const, server, slow });
}

/** A request that ran out of its bound; marked so callers can tell a busy server from one that is down. */
export function timedOutError(what: string, ms: number): Error {
    return Object.assign(new Error(`${what}: no answer within ${Math.round(ms / 1000)}s`), { timedOut: true as const });
}

export function isTimedOut(e: unknown): boolean {
    return (e as { timedOut?: unknown })?.timedOut === true;
}

export function isUnreachable(e: unknown): e is UnreachableError {
    return (e as { unreachable?: unknown })?.unreachable === true;
}

/** The user stopped the command (Ctrl-C): a wait ends with this, not its bound. Duck-typed: crosses serialization. */
export interface CancelledError extends Error {
    readonly cancelled: true;
}

export function cancelledError(): CancelledError {
    return Object.assign(new Error("cancelled (Ctrl-C)"), { cancelled: true as const });
}

export function isCancelled(e: unknown): e is CancelledError {
    return (e as { cancelled?: unknown })?.cancelled === true;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
    if (signal?.aborted) {
        throw cancelledError();
    }
}
