/**
 * Free TCP ports on 127.0.0.1 for the children of a launcher.
 *
 * Contract: `freePorts(names)` returns one distinct port per name, that were free a moment ago (all are held
 * open together, then released, so they never repeat within one call). Another process may still
 * take one before the child binds it; launchers keep the window short by asking right before
 * they spawn.
 */
import { Effect } from "effect"
import { type AddressInfo, createServer, type Server } from "node:net"
import { describeCause, LaunchError } from "./LaunchError.ts"

const listenOnLoopback = Effect.callback<Server, LaunchError>((resume) => {
  const server = createServer()
  server.once("error", (cause) =>
    resume(Effect.fail(new LaunchError({ step: "find a free port", message: describeCause(cause) }))))
  server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  return Effect.sync(() => void server.close())
})

const close = (server: Server) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))

/** A listening TCP server's address is always an `AddressInfo` (never a pipe name or null). */
const portOf = (server: Server): number => (server.address() as AddressInfo).port

/** One free port per name, e.g. `freePorts(["api", "peer"])` → `{ api: 41234, peer: 41235 }`. */
export const freePorts = <const Name extends string>(
  names: ReadonlyArray<Name>
): Effect.Effect<Record<Name, number>, LaunchError> =>
  Effect.scoped(
    Effect.forEach(names, (name) =>
      Effect.acquireRelease(listenOnLoopback, close).pipe(Effect.map((server) => [name, portOf(server)] as const)))
  ).pipe(Effect.map((entries) => Object.fromEntries(entries) as Record<Name, number>))
