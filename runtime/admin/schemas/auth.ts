/** Pairing, login, logout, password change and the session state the page starts from. */
import { Type, type Static } from "@sinclair/typebox";

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

const Password = (description: string) => Type.String({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, description });

export const SessionState = Type.Object(
  {
    paired: Type.Boolean({ description: "An admin password is set" }),
    pairingOpen: Type.Boolean({ description: "A pairing code is valid now (first start, or after the button was pressed)" }),
    authenticated: Type.Boolean({ description: "This request carries a valid session cookie or admin token" }),
    via: Type.Union([Type.Literal("session"), Type.Literal("token"), Type.Null()], { description: "How it authenticated" }),
    csrfToken: Type.Union([Type.String(), Type.Null()], {
      description: "With a session cookie: send it as the X-CSRF-Token header on every POST, PUT and DELETE",
    }),
  },
  { title: "SessionState", additionalProperties: false },
);
export type SessionState = Static<typeof SessionState>;

export const PairingRequest = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 32, description: "The pairing code from the log or console, e.g. 7KQM-4XTP (case, spaces and dashes do not matter)" }),
    password: Password("The admin password to set"),
  },
  { title: "PairingRequest", additionalProperties: false },
);
export type PairingRequest = Static<typeof PairingRequest>;

export const LoginRequest = Type.Object({ password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX }) }, { title: "LoginRequest", additionalProperties: false });
export type LoginRequest = Static<typeof LoginRequest>;

export const PasswordChangeRequest = Type.Object(
  { current: Type.String({ minLength: 1, maxLength: PASSWORD_MAX }), next: Password("The new admin password") },
  { title: "PasswordChangeRequest", additionalProperties: false },
);
export type PasswordChangeRequest = Static<typeof PasswordChangeRequest>;
