/**
 * Errors of the agent's HTTP API: `{ error: { code, message } }` with a 4xx/5xx status. The codes are
 * stable (clients branch on them); messages are for people.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
} from "fastify-type-provider-zod";
import type { ApiErrorBody } from "../../sdk/api/routes.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The error code of a request that fails the route's schema (default BAD_REQUEST). */
    invalidRequestCode?: AgentApiErrorCode;
  }
}

export type AgentApiErrorCode =
  | "BAD_REQUEST"
  | "BAD_TERMS"
  | "BAD_SIGNATURE"
  | "POLICY_REJECTED"
  | "UNKNOWN_DATA_SET"
  | "DATA_SET_NOT_LIVE"
  | "STALE_VERSION"
  | "BAD_LAYOUT"
  | "LAYOUT_MISMATCH"
  | "PIECE_NOT_STORED"
  | "SESSION_KEY_REFUSED"
  | "UPLOAD_IN_PROGRESS"
  | "LENGTH_REQUIRED"
  | "TOO_LARGE"
  | "INCOMPLETE_UPLOAD"
  | "UPLOAD_OFFSET_MISMATCH"
  | "ROOT_MISMATCH"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UNKNOWN_PIECE"
  | "LEAF_OUT_OF_RANGE"
  | "RANGE_NOT_SATISFIABLE"
  | "CHAIN_REVERT"
  | "NOT_FOUND"
  | "INTERNAL"
  | "BAD_PUBLIC_INDEX"
  | "PERMANENT_DISABLED"
  | "PERMANENT_FILE_CLOSED"
  | "BAD_PROOF";

/** The JSON body of every error answer (its schema is `apiErrorSchema` in offchain/sdk/api). */
export interface AgentApiErrorBody extends ApiErrorBody {
  error: { code: AgentApiErrorCode; message: string } & ApiErrorExtra;
}

/** Optional fields of an error body: the custom error name of a CHAIN_REVERT. */
export interface ApiErrorExtra {
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

/**
 * The API's conventions on an app: requests validated and answers encoded by the route schemas of
 * offchain/sdk/api (zod), and thrown errors (ours, a failed schema, fastify's, anything else) mapped to the
 * error body.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) return sendApiError(reply, error);
    if (hasZodFastifySchemaValidationErrors(error)) {
      return sendApiError(reply, invalidRequest(request, error.validation, error.validationContext));
    }
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

/**
 * A request that failed its route's schema: 400 with the route's code and every problem with its field
 * path (`body.state.span: must be ...`), so the client can tell which field to fix.
 */
function invalidRequest(
  request: FastifyRequest,
  problems: readonly { instancePath: string; message?: string }[],
  context: string | undefined,
): ApiError {
  const where = context ?? "request";
  const lines = problems.map((problem) => {
    const path = problem.instancePath.split("/").filter((part) => part !== "");
    const field = [where, ...path].join(".");
    return `${field}: ${problem.message ?? "is invalid"}`;
  });
  const code = request.routeOptions.config.invalidRequestCode ?? "BAD_REQUEST";
  return new ApiError(400, code, lines.join("; "));
}
