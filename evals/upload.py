"""Upload eval results to LangSmith as an experiment, only when LANGSMITH_API_KEY is set.

Each scored case becomes an example of the dataset `librarian-evals/<suite>` and a run of the
experiment, with one feedback score per metric. Graph runs themselves are traced by
LangChain/LangGraph when LANGSMITH_TRACING=true and LANGSMITH_API_KEY are set; nothing here is
needed for that. Without the key nothing is sent.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

DATASET = "librarian-evals"


def upload(report: dict[str, Any], client: Any = None) -> dict[str, Any] | None:
    """Send the report's cases and scores; returns what was created, or None without a key."""
    if client is None:
        key = os.environ.get("LANGSMITH_API_KEY")
        if not key:
            return None
        from langsmith import Client

        client = Client(api_key=key, auto_batch_tracing=False)
    name = f"{DATASET}/{report['suite']}"
    if client.has_dataset(dataset_name=name):
        dataset = client.read_dataset(dataset_name=name)
        known = {str(e.id) for e in client.list_examples(dataset_id=dataset.id)}
    else:
        dataset = client.create_dataset(name, description="Librarian eval cases")
        known = set()
    experiment = f"{name}@{report['created']}"
    project = client.create_project(experiment, reference_dataset_id=dataset.id,
                                    metadata={"judge": report["judge"]})
    now = datetime.now(UTC)
    scores = 0
    for c in report["cases"]:
        example_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{c['suite']}/{c['case']}")
        if str(example_id) not in known:
            client.create_example(inputs={"suite": c["suite"], "case": c["case"]},
                                  dataset_id=dataset.id, example_id=example_id)
        run_id = uuid.uuid4()
        client.create_run(f"{c['suite']}/{c['case']}", {"suite": c["suite"], "case": c["case"]},
                          "chain", id=run_id, project_name=experiment,
                          reference_example_id=example_id, start_time=now, end_time=now,
                          outputs={"metrics": c["metrics"]}, error=c.get("error"))
        for metric, value in c["metrics"].items():
            if value is not None:
                client.create_feedback(run_id, key=metric, score=float(value),
                                       session_id=project.id, trace_id=run_id)
                scores += 1
    return {"experiment": experiment, "project_id": str(project.id), "scores": scores}
