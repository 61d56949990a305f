from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "hello from the python web example"


if __name__ == "__main__":
    # One request through Flask's test client: the image's command prints
    # the response and exits, so the build test can compare outputs.
    print(app.test_client().get("/").get_data(as_text=True))
