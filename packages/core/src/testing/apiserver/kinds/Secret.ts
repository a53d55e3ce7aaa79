/**
 * `v1` Secret: type Opaque by default, `stringData` merged into `data` (base64) and never stored,
 * an empty `data` dropped (`omitempty`).
 */
import { Option, Result, Schema } from "effect"
import { Secret } from "../../../domain/Kubernetes.ts"
import { accept, type AdmissionRequest, decodeAs, define } from "../Kind.ts"

const admit = (request: AdmissionRequest) =>
  Result.flatMap(decodeAs(Secret, request.object), (secret) => {
    const { data: _data, stringData, ...rest } = secret
    const extra = Result.getSuccess(decodeAs(Schema.Record(Schema.String, Schema.String), stringData ?? {}))
    const encoded = Object.fromEntries(
      Object.entries(Option.getOrElse(extra, () => ({}))).map(([key, value]) => [key, Buffer.from(value, "utf8").toString("base64")])
    )
    const data = { ...secret.data, ...encoded }
    return accept(request, { ...rest, type: secret.type ?? "Opaque", ...(Object.keys(data).length > 0 ? { data } : {}) })
  })

export const kind = define({ admit })
