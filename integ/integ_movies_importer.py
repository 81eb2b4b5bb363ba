"""Integration test of the movies importer: upload a zipped CSV, start the state machine, find the movies in DynamoDB.

What a user does after ``cdk deploy MoviesImporter``: ``aws s3 cp movies.zip s3://<bucket>/uploads/movies.zip``,
then ``aws stepfunctions start-execution`` (the daily schedule starts the same state machine). Here a
``BucketDeployment`` uploads ``fixtures/movies/movies.zip`` (3 movies) as the last resource of the stack (a zip cannot
be sent through an SDK call's JSON parameters), and the assertions start an execution, wait until it ``SUCCEEDED``
(the job ran to exit code 0 on Fargate Spot or Fargate) and read an imported item.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import integ_tests_alpha as integ

from apps.movies_importer.stack import DAILY_FILE, UPLOAD_PREFIX, MoviesImporterStack
from integ._common import FIXTURES, disposable, integ_test, main, wait_until


def build(app: cdk.App) -> integ.IntegTest:
    stack = MoviesImporterStack(app, "IntegMoviesImporter")
    disposable(stack)
    # GIVEN the daily file in the uploads bucket (movies.zip under uploads/; the objects are deleted with the stack)
    s3deploy.BucketDeployment(
        stack,
        "IntegUpload",
        sources=[s3deploy.Source.asset(str(FIXTURES / "movies"))],
        destination_bucket=stack.uploads,
        destination_key_prefix=UPLOAD_PREFIX,
        prune=False,
        retain_on_delete=False,
    )
    test = integ_test(app, "MoviesImporter", [stack])

    # WHEN an execution of the state machine imports it (the input a user passes; the table and bucket are defaults)
    start = test.assertions.aws_api_call(
        "SFN",
        "startExecution",
        {
            "stateMachineArn": stack.state_machine.state_machine_arn,
            "input": json.dumps({"parameters": {"file_path": DAILY_FILE}}),
        },
    )
    # THEN the execution succeeds (the job ended SUCCEEDED) ...
    finished = wait_until(
        test.assertions.aws_api_call(
            "SFN", "describeExecution", {"executionArn": start.get_att_string("executionArn")}
        ),
        integ.ExpectedResult.object_like({"status": "SUCCEEDED"}),
    )
    # ... AND the table holds the movies of the CSV, typed as the importer documents
    item = test.assertions.aws_api_call(
        "DynamoDB", "getItem", {"TableName": stack.table.table_name, "Key": {"movieId": {"N": "11"}}}
    )
    item.expect(
        integ.ExpectedResult.object_like(
            {
                "Item": {
                    "movieId": {"N": "11"},
                    "title": {"S": "American President, The (1995)"},
                    "genres": {"L": [{"S": "Comedy"}, {"S": "Drama"}, {"S": "Romance"}]},
                    "rating": {"N": "3.67"},
                }
            }
        )
    )
    start.next(finished).next(item)
    return test


if __name__ == "__main__":
    main(build)
