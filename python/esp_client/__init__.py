"""esp_client: ESP (Evolutionary Surrogate-assisted Prescription) from Python against
an esp service.

    client = esp_client.Client("http://127.0.0.1:8080", token=TOKEN)
    exp = client.experiment("demo", params)
    pop = exp.ask()
    exp.tell({c.id: {"score": evaluate(c)} for c in pop})

See docs/python.md."""
from .candidates import Candidate, Population
from .errors import AuthenticationError, ConflictError, EspError, Issue, NotFoundError, OperationFailed
from .experiment import Client, Experiment, Objectives, nondominated
from .network import Layer, Network
from .training import Evaluator, TrainResult

__version__ = "0.1.0"
__all__ = ["AuthenticationError", "Candidate", "Client", "ConflictError", "EspError", "Evaluator", "Experiment",
           "Issue", "Layer", "Network", "NotFoundError", "Objectives", "OperationFailed", "Population",
           "TrainResult", "nondominated"]
