/** Error pages: 404 for unknown pages and ids, 400 for malformed input, 503 when the chain cannot be read. */
import { html, type SafeHtml } from "../html.js";

export function errorPage(status: 400 | 404 | 500 | 503, title: string, message: string): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${status} ${title} · Strata dashboard</title>
        <link rel="stylesheet" href="/dashboard.css" />
      </head>
      <body>
        <header class="top"><a class="brand" href="/">Strata dashboard</a></header>
        <main>
          <h1>${status} · ${title}</h1>
          <p id="error-message">${message}</p>
          <p><a href="/">Back to the network overview</a></p>
        </main>
      </body>
    </html>`;
}
