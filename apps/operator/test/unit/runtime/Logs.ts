/** The captured-logs helper is the core tests' one: one copy for both workspaces. */
export { capture, logged } from "../../../../../packages/core/test/Logs.ts"
