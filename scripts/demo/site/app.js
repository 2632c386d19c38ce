/* global document */
// The deploy writes strata-site.json next to these files: the backend's address, the site id and the version.
(async () => {
  const answer = document.getElementById("answer");
  try {
    const config = await (await fetch("strata-site.json", { cache: "no-cache" })).json();
    document.getElementById("backend").textContent = config.backend ?? "(none)";
    if (!config.backend) {
      answer.textContent = "this version has no backend";
      return;
    }
    const reply = await (await fetch(config.backend)).json();
    answer.textContent = `${reply.message} (call ${reply.calls})`;
  } catch (error) {
    answer.textContent = `the backend did not answer: ${error}`;
  }
})();
