/**
 * Errors of the agent's HTTP API: `{ error: { code, message } }` with a 4xx/5xx status. The codes are
 * stable (clients branch on them); messages are for people.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";

export type AgentApiErrorCode =
  | "BAD_REQUEST"
  | "BAD_PROPOSAL"
  | "CLIENT_UNFUNDED"
  | "DUPLICATE"
  | "POLICY_REJECTED"
  | "UNKNOWN_UPLOAD"
  | "UPLOAD_NOT_OPEN"
  | "UPLOAD_IN_PROGRESS"
  | "TOO_LARGE"
  | "INCOMPLETE_UPLOAD"
  | "ROOT_MISMATCH"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UNKNOWN_PIECE"
  | "RANGE_NOT_SATISFIABLE"
  | "BAD_EXTENSION"
  | "UNKNOWN_DEAL"
  | "EXTENSION_IN_PROGRESS"
  | "CHAIN_REVERT"
  | "NOT_FOUND"
  | "INTERNAL";

/** The JSON body of every error answer. */
export interface AgentApiErrorBody {
  error: { code: AgentApiErrorCode; message: string } & ApiErrorExtra;
}

/** Optional fields of an error body: the upload of a DUPLICATE, the custom error name of a CHAIN_REVERT. */
export interface ApiErrorExtra {
  uploadId?: string;
  revert?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: AgentApiErrorCode,
    message: string,
    readonly extra: ApiErrorExtra = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function sendApiError(reply: FastifyReply, error: ApiError): FastifyReply {
  const body: AgentApiErrorBody = { error: { code: error.code, message: error.message, ...error.extra } };
  return reply.status(error.status).send(body);
}

/** Map thrown errors (ours, fastify's, anything else) to the error body. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) return sendApiError(reply, error);
    const fastifyError = error as FastifyError;
    const status = fastifyError.statusCode;
    if (fastifyError.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return sendApiError(reply, new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", error.message));
    }
    if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return sendApiError(reply, new ApiError(413, "TOO_LARGE", error.message));
    }
    if (status !== undefined && status >= 400 && status < 500) {
      return sendApiError(reply, new ApiError(status, "BAD_REQUEST", error.message));
    }
    request.log.error({ err: error }, "request failed");
    return sendApiError(reply, new ApiError(500, "INTERNAL", "internal error; see the agent's log"));
  });
  app.setNotFoundHandler((request, reply) =>
    sendApiError(reply, new ApiError(404, "NOT_FOUND", `no route ${request.method} ${request.url}`)),
  );
}
