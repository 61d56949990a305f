# A deliberately sloppy Dockerfile for the format golden files.
FROM node
RUN apt-get update && apt-get install -y curl
RUN npm install express
COPY . /srv/
CMD node "server.js"
