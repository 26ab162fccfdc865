"""The baseline: a bare FastAPI endpoint that parses the same body as intake and answers 202."""

import uuid

import uvicorn
from fastapi import FastAPI

from services.intake.reports.schemas import IncidentAccepted, IncidentCreate

app = FastAPI(title="bare")


@app.post("/v1/incidents", status_code=202, response_model=IncidentAccepted)
async def report(body: IncidentCreate) -> IncidentAccepted:
    """Parse and validate the report, nothing else."""
    incident_id = uuid.uuid4()
    return IncidentAccepted(incident_id=incident_id, report_id=incident_id)


if __name__ == "__main__":
    import sys

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
