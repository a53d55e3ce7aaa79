/**
 * `v1` Event: stored with the fields the API server always fills in (`reportingComponent`,
 * `reportingInstance` empty, `eventTime` null); no generation.
 */
import { accept, type AdmissionRequest, define } from "../Kind.ts"

const admit = (request: AdmissionRequest) =>
  accept(request, {
    ...request.object,
    reportingComponent: request.object["reportingComponent"] ?? "",
    reportingInstance: request.object["reportingInstance"] ?? "",
    eventTime: request.object["eventTime"] ?? null
  })

export const kind = define({ admit })
